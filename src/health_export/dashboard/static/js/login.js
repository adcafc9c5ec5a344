// The login form: the server's session login (an HttpOnly cookie), then the page again.

import { login } from "./api.js";
import { el } from "./dom.js";

export function loginForm(onSuccess) {
  const name = el("input", { id: "login-name", name: "name", autocomplete: "username", required: true });
  const password = el("input", {
    id: "login-password", name: "password", type: "password", autocomplete: "current-password", required: true,
  });
  const message = el("p", { class: "message", role: "alert", "data-testid": "login-message" });
  const button = el("button", { type: "submit", class: "primary", text: "Log in" });
  const form = el("form", {
    class: "panel login",
    "data-testid": "login-form",
    on: {
      submit: async (event) => {
        event.preventDefault();
        delete document.body.dataset.ready;
        button.disabled = true;
        message.textContent = "";
        try {
          const answer = await login(name.value, password.value);
          if (answer.ok) { await onSuccess(); return; } // onSuccess marks the page ready
          if (answer.status === 429) {
            message.textContent = `Too many attempts: try again in ${answer.retryAfter || "a few"} seconds.`;
          } else if (answer.status === 401) {
            message.textContent = "Wrong name or password.";
          } else {
            message.textContent = `Login failed: ${answer.detail}`;
          }
        } catch {
          message.textContent = "The server cannot be reached; check that health-export is running.";
        }
        button.disabled = false;
        document.body.dataset.ready = "true";
      },
    },
  },
  el("h1", { text: "Log in" }),
  el("label", { for: "login-name", text: "Name" }), name,
  el("label", { for: "login-password", text: "Password" }), password,
  button, message,
  el("p", { class: "hint", text: "A dashboard user is made with a password: health-export users create NAME --password-stdin" }));
  return form;
}
