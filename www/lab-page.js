// Loads the Lab's own wasm (bin `skipwise-lab-page`, built by Trunk as a no-modules bundle) the
// first time the Lab tab opens: the player's wasm only adds this script (src/lab_loader.rs), so a
// first visit never downloads the Lab's views. The bundle declares the global `wasm_bindgen`;
// its `main` mounts the Lab into #lab-root. A failure is said there, where the Lab would be.
(function () {
  const fail = (what) => {
    const root = document.getElementById('lab-root');
    if (!root) return;
    root.replaceChildren();
    const p = document.createElement('p');
    p.setAttribute('role', 'alert');
    p.className = 'alert';
    p.textContent = 'The Lab could not load (' + what + '). Reload the page to try again.';
    root.appendChild(p);
  };
  const script = document.createElement('script');
  script.src = './skipwise-lab-page.js';
  script.onload = () => wasm_bindgen('./skipwise-lab-page_bg.wasm').catch((e) => fail(String(e)));
  script.onerror = () => fail('skipwise-lab-page.js did not load');
  document.body.appendChild(script);
})();
