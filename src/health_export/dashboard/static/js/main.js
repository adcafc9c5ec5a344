// Entry point: draws the page named by <body data-page>, or the login form when the
// session is missing. <body data-ready="true"> marks a page that has drawn everything.

import { ApiError, Unauthorized, logout, viewedUser } from "./api.js";
import { el, errorState } from "./dom.js";
import { loginForm } from "./login.js";
import { currentRange, keepRangeInLinks } from "./range.js";
import { setUnitSystem, unitSystem } from "./units.js";
import { activityPage } from "./pages/activity.js";
import { bodyPage } from "./pages/body.js";
import { explorePage } from "./pages/explore.js";
import { heartPage } from "./pages/heart.js";
import { overviewPage } from "./pages/overview.js";
import { recordsPage } from "./pages/records.js";
import { sleepPage } from "./pages/sleep.js";
import { syncPage } from "./pages/sync.js";
import { workoutPage } from "./pages/workout.js";
import { workoutsPage } from "./pages/workouts.js";

const PAGES = {
  overview: overviewPage,
  activity: activityPage,
  sleep: sleepPage,
  heart: heartPage,
  workouts: workoutsPage,
  workout: workoutPage,
  body: bodyPage,
  explore: explorePage,
  records: recordsPage,
  sync: syncPage,
};

const main = document.getElementById("main");
const logoutButton = document.querySelector("[data-testid=logout]");

function settled() {
  // uPlot commits its first draw in a microtask; a macrotask later everything is painted.
  return new Promise((resolve) => setTimeout(resolve, 0));
}

// An admin looking at another user's dashboard sees whose it is, and the way back.
function viewingBanner() {
  const viewed = viewedUser();
  if (!viewed) return null;
  const query = new URLSearchParams(window.location.search);
  query.delete("user_id");
  const own = `${window.location.pathname}${query.size ? `?${query}` : ""}`;
  return el("p", { class: "notice viewing", role: "status", "data-testid": "viewing-user" },
    `You are looking at the dashboard of user ${viewed} as an admin; each read is recorded in the audit trail. `,
    el("a", { href: own, text: "Back to your own" }));
}

function refusal(error) {
  return el("div", { class: "panel empty-state error", role: "alert", "data-testid": "forbidden" },
    el("strong", { text: "Not allowed" }),
    el("p", { text: `Only an admin can look at another user's dashboard (user_id=${viewedUser()}). Remove user_id from the address to see your own. (${error.message})` }));
}

function showLogin() {
  logoutButton.hidden = true;
  document.title = "Log in · health-export";
  main.replaceChildren(loginForm(() => draw({ fromLogin: true })));
  main.querySelector("input[name=name]").focus();
}

async function draw({ fromLogin = false } = {}) {
  delete document.body.dataset.ready;
  // Logged in now: a redraw (the unit choice) asks the API again.
  if (fromLogin) document.body.dataset.session = "present";
  if (!fromLogin && document.body.dataset.session === "none") {
    // No session cookie: no API call that could only answer 401.
    showLogin();
    await settled();
    document.body.dataset.ready = "true";
    return;
  }
  main.setAttribute("aria-busy", "true");
  main.replaceChildren(el("p", { class: "loading", text: "Loading…" }));
  const range = currentRange();
  keepRangeInLinks(range);
  try {
    const content = await PAGES[document.body.dataset.page](range);
    logoutButton.hidden = false;
    main.replaceChildren(...[viewingBanner(), ...content.nodes].filter(Boolean));
    content.afterInsert?.();
  } catch (error) {
    if (error instanceof Unauthorized) showLogin();
    else if (error instanceof ApiError && error.status === 403 && viewedUser()) {
      logoutButton.hidden = false;
      main.replaceChildren(refusal(error));
    } else main.replaceChildren(errorState(error instanceof ApiError ? error : new ApiError(0, String(error))));
    if (!(error instanceof ApiError) && !(error instanceof Unauthorized)) console.error(error);
  }
  await settled();
  main.removeAttribute("aria-busy");
  document.body.dataset.ready = "true";
}

// The unit choice redraws the page in place (and is kept for the next visit).
const unitsChoice = document.querySelector("[data-testid=units]");
unitsChoice.value = unitSystem();
unitsChoice.addEventListener("change", () => {
  setUnitSystem(unitsChoice.value);
  draw();
});

logoutButton.addEventListener("click", async () => {
  delete document.body.dataset.ready;
  await logout();
  document.body.dataset.session = "none";
  showLogin();
  await settled();
  document.body.dataset.ready = "true";
});

draw();
