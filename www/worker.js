// Boots the Skipwise training worker (crates/skipwise-worker, built by Trunk as a worker).
//
// burn's WebGPU kernels (cubecl-wgpu 0.11) declare `enable subgroups;` in their WGSL, but wgpu 30's
// WebGPU backend never asks the browser for the `subgroups` feature, so shader creation fails and
// the device is poisoned. Until that is fixed upstream, every device requested in this worker asks
// for `subgroups` whenever its adapter offers it. The browser test with WebGPU on covers this.
if (self.GPUAdapter && GPUAdapter.prototype.requestDevice) {
  const requestDevice = GPUAdapter.prototype.requestDevice;
  GPUAdapter.prototype.requestDevice = function (descriptor) {
    const wanted = new Set((descriptor && descriptor.requiredFeatures) || []);
    if (this.features && this.features.has('subgroups')) wanted.add('subgroups');
    return requestDevice.call(this, { ...(descriptor || {}), requiredFeatures: [...wanted] });
  };
}
importScripts('./skipwise-worker.js');
wasm_bindgen('./skipwise-worker_bg.wasm').catch((e) => {
  // As the Rust side's messages (skipwise_protocol::wire): an envelope (id 0: no request) around a
  // response as JSON text, and no points. A worker that cannot start is a dead worker, which the page restarts
  // a bounded number of times.
  self.postMessage({ m: JSON.stringify({ id: 0, body: { Panic: { message: 'the training worker failed to start: ' + e } } }), p: new Float32Array(0) });
});
