// Embeddable widget: <script src="https://support.example.com/static/widget.js" async></script>
(function () {
  "use strict";
  const script = document.currentScript;
  const origin = new URL(script.src).origin;
  const button = document.createElement("button");
  button.textContent = "Help";
  button.setAttribute("aria-expanded", "false");
  button.style.cssText = "position:fixed;right:20px;bottom:20px;z-index:2147483000;padding:12px 18px;border:0;border-radius:24px;background:#1f6f5c;color:#fff;font:16px system-ui;cursor:pointer;box-shadow:0 4px 12px rgba(0,0,0,.2)";
  const frame = document.createElement("iframe");
  frame.title = "Help chat";
  frame.src = origin + "/?embed=1";
  frame.style.cssText = "position:fixed;right:20px;bottom:76px;z-index:2147483000;width:380px;max-width:calc(100vw - 40px);height:560px;max-height:calc(100vh - 100px);border:1px solid #d5dbd7;border-radius:12px;background:#fff;display:none;box-shadow:0 8px 24px rgba(0,0,0,.2)";
  button.addEventListener("click", () => {
    const open = frame.style.display === "none";
    frame.style.display = open ? "block" : "none";
    button.setAttribute("aria-expanded", String(open));
  });
  document.body.appendChild(frame);
  document.body.appendChild(button);
})();
