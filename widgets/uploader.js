// TFTSR chunked uploader (front end of widgets/uploader.py, loaded by anywidget; no build step).
//
// The browser reads the chosen File in chunks (chunk_bytes, under the server's WebSocket message
// limit) and sends each as a comm message with one binary buffer. The kernel acknowledges every
// chunk; at most `window` chunks are unacknowledged at any time (flow control). The progress bar
// shows the bytes the kernel has acknowledged, then the kernel's own stages (check, PII scan,
// store). A file over max_bytes is refused here, from its size, before any byte is sent.
// Protocol (front end -> kernel):  start {id, name, size}, chunk {id, offset} + buffer, end {id},
// cancel {id}, refused {name, size}.  Kernel -> front end:  ready {id}, ack {id, received},
// stage {id, stage, done, total}, done {id, message}, error {id, message}, cancelled {id}.

function fmtBytes(n) {
  if (n >= 1048576) return (n / 1048576).toFixed(1) + " MB";
  if (n >= 1024) return (n / 1024).toFixed(1) + " KB";
  return n + " bytes";
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;  // text only: file names never become HTML
  return e;
}

const STAGES = { reading: "Reading", extracting: "Extracting the text", scanning: "Checking and scanning for PII",
                 storing: "Storing" };

function render({ model, el: root }) {
  const view = Math.random().toString(36).slice(2);
  let seq = 0;
  let current = null;  // the upload in progress: {id, file, acked, sent, waiters, cancelled}

  root.classList.add("tftsr-uploader");
  const input = el("input", "tftsr-uploader-input");
  input.type = "file";
  input.style.display = "none";
  const pick = el("button", "jupyter-button widget-button tftsr-uploader-pick");
  pick.type = "button";
  const cancel = el("button", "jupyter-button widget-button tftsr-uploader-cancel", "Cancel");
  cancel.type = "button";
  const bar = el("progress", "tftsr-uploader-bar");
  const text = el("span", "tftsr-uploader-text");
  const hint = el("span", "tftsr-uploader-hint");
  const row = el("div", "tftsr-uploader-row");
  row.append(pick, hint, cancel, bar, text);
  root.append(input, row);

  function sync() {
    pick.textContent = model.get("label");
    hint.textContent = model.get("hint");
    input.accept = model.get("accept");
    input.multiple = model.get("multiple");
    const busy = current !== null;
    pick.disabled = busy || model.get("disabled");
    input.disabled = busy || model.get("disabled");
  }
  function show(on) {
    cancel.style.display = on ? "" : "none";
    bar.style.display = on ? "" : "none";
  }
  function setBar(done, total) {
    if (total > 0) {
      bar.max = total;
      bar.value = done;
    } else {
      bar.removeAttribute("value");  // indeterminate
    }
    bar.dataset.done = String(done);
    bar.dataset.total = String(total);
  }
  function say(message, kind) {
    text.textContent = message;
    text.dataset.kind = kind || "info";
  }
  show(false);
  sync();
  model.on("change:label", sync);
  model.on("change:hint", sync);
  model.on("change:disabled", sync);
  model.on("change:accept", sync);
  model.on("change:multiple", sync);

  pick.addEventListener("click", () => input.click());
  cancel.addEventListener("click", () => {
    if (!current || current.ended) return;  // the whole file is in: storing cannot be cancelled
    current.cancelled = true;
    model.send({ type: "cancel", id: current.id });
    wake(current, new Error("cancelled"));
  });

  function wake(up, err) {
    const ws = up.waiters;
    up.waiters = [];
    ws.forEach((w) => (err ? w.reject(err) : w.resolve()));
  }
  function waitFor(up, test, seconds) {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("the server stopped answering (no reply for " + seconds + " s)")), seconds * 1000);
      const check = () => {
        if (up.failed) { clearTimeout(t); reject(new Error(up.failed)); return true; }
        if (up.cancelled) { clearTimeout(t); reject(new Error("cancelled")); return true; }
        if (test()) { clearTimeout(t); resolve(); return true; }
        return false;
      };
      if (check()) return;
      const w = { resolve: () => { if (!check()) up.waiters.push(w); }, reject: (e) => { clearTimeout(t); reject(e); } };
      up.waiters.push(w);
    });
  }

  model.on("msg:custom", (msg) => {
    const up = current;
    if (!up || msg.id !== up.id) return;  // another view's upload
    if (msg.type === "ready") up.ready = true;
    else if (msg.type === "ack") {
      up.acked = msg.received;
      setBar(up.acked, up.file.size);
      const pct = Math.floor((100 * up.acked) / up.file.size);
      say(up.file.name + ": " + fmtBytes(up.acked) + " of " + fmtBytes(up.file.size) + " (" + pct + "%)" + up.of, "busy");
    } else if (msg.type === "stage") {
      setBar(msg.done, msg.stage === "scanning" && msg.done === 0 ? 0 : msg.total);
      const label = msg.stage === "finishing" ? model.get("finishing_label") : STAGES[msg.stage] || msg.stage;
      say(up.file.name + ": " + label + "\u2026" + up.of, "busy");
    } else if (msg.type === "done") { up.finished = true; up.message = msg.message; }
    else if (msg.type === "error") up.failed = msg.message;
    else if (msg.type === "cancelled") up.cancelled = true;
    wake(up);
  });

  async function sendFile(file, of) {
    const id = view + ":" + ++seq;
    const up = { id, file, acked: 0, waiters: [], of, ready: false, finished: false, failed: null, cancelled: false };
    current = up;
    sync();
    cancel.disabled = false;
    show(true);
    setBar(0, file.size);
    say(file.name + ": starting" + of, "busy");
    model.send({ type: "start", id, name: file.name, size: file.size });
    await waitFor(up, () => up.ready, 60);
    const step = model.get("chunk_bytes");
    const window = Math.max(1, model.get("window"));
    let offset = 0;
    while (offset < file.size) {
      const end = Math.min(file.size, offset + step);
      const buf = await file.slice(offset, end).arrayBuffer();
      if (up.cancelled || up.failed) break;
      const at = offset;
      await waitFor(up, () => at - up.acked < window * step, 120);  // at most `window` chunks in flight
      model.send({ type: "chunk", id, offset: at }, undefined, [buf]);
      offset = end;
    }
    await waitFor(up, () => up.acked >= file.size, 120);
    up.ended = true;
    cancel.disabled = true;
    model.send({ type: "end", id });
    await waitFor(up, () => up.finished, 600);
    return up.message;
  }

  input.addEventListener("change", async () => {
    const files = Array.from(input.files || []);
    input.value = "";  // the same file can be chosen again, whatever happens below
    if (!files.length || current) return;
    const max = model.get("max_bytes");
    const big = files.filter((f) => f.size > max);
    if (big.length) {
      // refused from the size alone: nothing is transferred
      const names = big.map((f) => f.name + " is " + fmtBytes(f.size)).join("; ");
      say(names + "; the limit is " + fmtBytes(max) + ". Split it or upload the relevant time window.", "error");
      model.send({ type: "refused", files: big.map((f) => ({ name: f.name, size: f.size })) });
      return;
    }
    const results = [];
    let failed = false;
    for (let i = 0; i < files.length; i++) {
      const of = files.length > 1 ? " (file " + (i + 1) + " of " + files.length + ")" : "";
      try {
        results.push(await sendFile(files[i], of));
      } catch (err) {
        const up = current;
        if (up && !up.cancelled && !up.failed) model.send({ type: "cancel", id: up.id });
        say(up && up.cancelled ? files[i].name + ": upload cancelled." : files[i].name + ": " + (err.message || err), up && up.cancelled ? "info" : "error");
        failed = true;
      } finally {
        current = null;
        show(false);
        sync();
      }
      if (failed) break;
    }
    if (!failed) say(results.join(" "), "ok");
  });
}

export default { render };
