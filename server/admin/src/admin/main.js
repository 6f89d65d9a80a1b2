// The staff page: log in, then the workspace. It talks to the server that serves it (at /admin);
// ?ws=ws://same-host:port moves only the websockets to another port of that host.
import { Api } from "../api.js";
import { showErrors, clearErrors } from "../form-errors.js";
import { Workspace } from "./workspace.js";
import "./admin.css";

const TOKEN_KEY = "aislecast.token";
const params = new URLSearchParams(location.search);
const api = new Api("", sessionStorage.getItem(TOKEN_KEY));
const loginView = document.getElementById("login-view");
const loginForm = document.getElementById("login-form");
let workspace = null;

function showLogin() {
  sessionStorage.removeItem(TOKEN_KEY);
  api.token = null;
  document.getElementById("workspace").hidden = true;
  loginView.hidden = false;
}

async function showWorkspace(user) {
  loginView.hidden = true;
  document.getElementById("workspace").hidden = false;
  document.getElementById("whoami").textContent = `${user.email} (${user.role})`;
  workspace ??= new Workspace(api, {
    wsBase: params.get("ws"),
    liveRenderer: params.get("live") ?? "svg", // ?live=canvas for very busy stores
    onUnauthorised: showLogin,
  });
  await workspace.open();
}

loginForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(loginForm);
  const form = new FormData(loginForm);
  try {
    const reply = await api.login(String(form.get("email")), String(form.get("password")));
    sessionStorage.setItem(TOKEN_KEY, reply.token);
    await showWorkspace(reply.user);
  } catch (error) {
    showErrors(loginForm, error);
  }
});

document.getElementById("logout").addEventListener("click", showLogin);

async function boot() {
  if (!api.token) return showLogin();
  try {
    await showWorkspace(await api.me());
  } catch {
    showLogin();
  }
}

boot();
