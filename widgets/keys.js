// TFTSR submit key (front end of widgets/keys.py, loaded by anywidget; no build step).
//
// Ctrl+Enter (Cmd+Enter on a Mac) in the text box marked with the class in `target` sends
// {type: "submit", text: <the box's current text>} to the kernel, which puts the text in the box
// and presses its Send button. The text goes with the key so the last characters typed are never
// lost to an update still on its way. Listening on the document in the capture phase sees the
// key before the text box's own handler (which stops it from reaching the notebook's shortcuts).
// Several views of one widget share one event: the first handles it.

function render({ model, el }) {
  el.style.display = "none";
  function onKey(e) {
    if (e.key !== "Enter" || !(e.ctrlKey || e.metaKey) || e.altKey || e.shiftKey || e.isComposing) return;
    const target = model.get("target");
    const box = target && e.target && e.target.closest ? e.target.closest("." + target) : null;
    if (!box || e.__tftsrSubmitted) return;
    e.__tftsrSubmitted = true;
    e.preventDefault();
    e.stopPropagation();
    if (model.get("disabled")) return;
    const field = e.target.matches("textarea, input") ? e.target : box.querySelector("textarea, input");
    model.send({ type: "submit", text: field ? String(field.value) : "" });
  }
  document.addEventListener("keydown", onKey, true);
  return () => document.removeEventListener("keydown", onKey, true);
}

export default { render };
