// The shell: a hash router that mounts one page module at a time into <main id="view">.
// A page module exports `mount(root, params)` and may return an `unmount()` function.
import { toast } from "./ui.js";

const PAGES = {
  chat: () => import("./pages/chat.js"),
  images: () => import("./pages/images.js"),
  compare: () => import("./pages/compare.js"),
  arena: () => import("./pages/arena.js"),
  leaderboard: () => import("./pages/leaderboard.js"),
  workflows: () => import("./pages/workflows.js"),
  models: () => import("./pages/models.js"),
  jobs: () => import("./pages/jobs.js"),
  settings: () => import("./pages/settings.js"),
};

let unmountCurrent = null;

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?");
  const [name, ...rest] = path.split("/");
  return { name: PAGES[name] ? name : "chat", rest, params: new URLSearchParams(query) };
}

async function route() {
  if (location.hash && !location.hash.startsWith("#/")) {
    // An in-page anchor such as the skip link: move focus, keep the current page.
    document.getElementById(location.hash.slice(1))?.focus();
    return;
  }
  const { name, rest, params } = parseHash();
  document.querySelectorAll("nav a[data-page]").forEach((a) => {
    a.toggleAttribute("aria-current", a.dataset.page === name);
    if (a.dataset.page === name) {
      a.setAttribute("aria-current", "page");
      // On a phone the nav scrolls sideways: keep the current page's link in view.
      a.scrollIntoView({ block: "nearest", inline: "nearest" });
    }
  });
  if (unmountCurrent) {
    try { unmountCurrent(); } catch (err) { console.error(err); }
    unmountCurrent = null;
  }
  const root = document.getElementById("view");
  root.replaceChildren();
  root.dataset.page = name;
  try {
    const page = await PAGES[name]();
    const result = await page.mount(root, { rest, params });
    unmountCurrent = typeof result === "function" ? result : null;
  } catch (err) {
    console.error(err);
    toast(`Could not open the ${name} page: ${err.message || err}`, "error");
  }
}

window.addEventListener("hashchange", route);
window.addEventListener("DOMContentLoaded", route);
