// Boots the Skipwise Lab's worker (crates/skipwise-worker, bin skipwise-lab-worker), started by the
// Lab tab. It trains on the CPU only, so the WebGPU workaround of worker.js is not needed here.
importScripts('./skipwise-lab-worker.js');
wasm_bindgen('./skipwise-lab-worker_bg.wasm').catch((e) => {
  // As the Rust side's messages (skipwise_protocol::wire): an envelope (id 0) around a response.
  self.postMessage({ m: JSON.stringify({ id: 0, body: { Panic: { message: 'the Lab worker failed to start: ' + e } } }), p: new Float32Array(0) });
});
