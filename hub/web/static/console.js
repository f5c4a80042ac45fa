// Support console: one region's localized case feed, live (Server-Sent Events).
//
// Every field of a case view arrives already localized by the worker (labels, amounts, dates,
// digits); this page only lays them out. Page strings come from GET /feeds in the region's
// language; the clock and relative ages use the browser's Intl API with the region's locale,
// digits and time zone. No framework, no build step; text is set with textContent only.
"use strict";

(function () {
  const RETRY_MS = 3000;
  const $ = (id) => document.getElementById(id);
  const state = {
    token: null,
    regions: [],
    region: null,
    views: new Map(),
    seen: null,
    source: null,
    generation: 0,
    backoff: RETRY_MS,
    retryTimer: null,
    clockTimer: null,
  };

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined || child === "") continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function label(key, fallback) {
    const labels = state.region ? state.region.labels : {};
    return labels[key] || fallback;
  }

  function bcp47(region) {
    return region.intl_locale.split("-u-")[0];
  }

  // --- access ------------------------------------------------------------------------------

  async function openFeeds(token) {
    const error = $("access-error");
    error.hidden = true;
    let response;
    try {
      response = await fetch("/feeds", { headers: { Authorization: "Bearer " + token } });
    } catch (exc) {
      error.textContent = "The hub cannot be reached.";
      error.hidden = false;
      return;
    }
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      error.textContent = response.status === 401
        ? "This token is not valid for any region."
        : "Error " + response.status + ": " + (body.detail || "");
      error.hidden = false;
      return;
    }
    const body = await response.json();
    state.token = token;
    state.regions = body.regions;
    sessionStorage.setItem("feed-token", token);
    const select = $("region");
    select.replaceChildren(
      ...state.regions.map((region) =>
        el("option", { value: region.code, lang: bcp47(region) }, region.name + " (" + region.code + ")"))
    );
    $("controls").hidden = false;
    $("access").hidden = true; // the token lives in this tab's sessionStorage only
    const wanted = new URLSearchParams(location.search).get("region");
    const initial = state.regions.find((r) => wanted && r.code === wanted.toUpperCase())
      || state.regions[0];
    select.value = initial.code;
    chooseRegion(initial.code);
  }

  function chooseRegion(code) {
    const region = state.regions.find((r) => r.code === code);
    if (!region) return;
    state.region = region;
    state.views = new Map();
    localize(region);
    connect(region);
  }

  // --- page strings, language and direction ------------------------------------------------

  function localize(region) {
    const root = document.documentElement;
    root.lang = bcp47(region);
    root.dir = region.direction;
    const list = $("cases");
    list.lang = bcp47(region);
    list.dir = region.direction;
    document.title = label("title", "Support console") + " · " + region.name;
    $("title").textContent = label("title", "Support console");
    $("region-label").textContent = label("region", "Region");
    $("status-label").textContent = label("status", "Status");
    $("clock-label").textContent = label("local_time", "Local time");
    $("empty").textContent = label("no_cases", "No cases in this feed yet");
    const status = $("status");
    const current = status.value;
    status.replaceChildren(
      el("option", { value: "" }, label("all_statuses", "All statuses")),
      ...Object.entries(region.status_labels).map(([value, text]) => el("option", { value }, text))
    );
    status.value = current;
    startClock(region);
  }

  function startClock(region) {
    const format = new Intl.DateTimeFormat(region.intl_locale, {
      timeZone: region.time_zone, dateStyle: "full", timeStyle: "medium",
    });
    const clock = $("clock");
    $("zone").textContent = region.time_zone;
    $("clock-line").hidden = false;
    const tick = () => {
      const now = new Date();
      clock.dateTime = now.toISOString();
      clock.textContent = format.format(now);
      refreshAges();
    };
    clearInterval(state.clockTimer);
    tick();
    state.clockTimer = setInterval(tick, 1000);
  }

  // --- live feed -----------------------------------------------------------------------------

  // The stream is opened with a short-lived ticket, not the token: EventSource cannot send an
  // Authorization header, and a token in a URL ends up in logs. A ticket expires within a
  // minute, so every (re)connection the browser cannot complete by itself gets a fresh one.
  async function streamTicket(region) {
    const response = await fetch("/feeds/" + encodeURIComponent(region.code) + "/ticket", {
      method: "POST", headers: { Authorization: "Bearer " + state.token },
    });
    if (!response.ok) throw new Error("ticket refused: " + response.status);
    return (await response.json()).ticket;
  }

  function reconnectLater(region, generation) {
    // Refused (expired ticket, too many streams, worker busy) or gone: back off, then retry.
    const delay = state.backoff;
    state.backoff = Math.min(state.backoff * 2, 60000);
    clearTimeout(state.retryTimer);
    state.retryTimer = setTimeout(() => {
      if (generation === state.generation) connect(region);
    }, delay);
  }

  async function connect(region) {
    if (state.source) state.source.close();
    state.source = null;
    clearTimeout(state.retryTimer);
    const generation = ++state.generation;
    setConnection("reconnecting");
    let ticket;
    try {
      ticket = await streamTicket(region);
    } catch (exc) {
      if (generation === state.generation) reconnectLater(region, generation);
      return;
    }
    if (generation !== state.generation) return; // another region was chosen meanwhile
    const url = "/feeds/" + encodeURIComponent(region.code) + "/stream?ticket="
      + encodeURIComponent(ticket);
    const source = new EventSource(url);
    state.source = source;
    source.addEventListener("open", () => { state.seen = new Set(); });
    source.addEventListener("case", (event) => {
      const view = JSON.parse(event.data);
      if (state.seen) state.seen.add(view.case_id);
      const known = state.views.get(view.case_id);
      if (known && known.version > view.version) return;
      state.views.set(view.case_id, view);
      render();
    });
    source.addEventListener("removed", (event) => {
      state.views.delete(JSON.parse(event.data).case_id);
      render();
    });
    source.addEventListener("ready", () => {
      // The snapshot is complete: forget cases this connection did not list.
      if (state.seen) {
        for (const id of [...state.views.keys()]) if (!state.seen.has(id)) state.views.delete(id);
        state.seen = null;
      }
      state.backoff = RETRY_MS;
      setConnection("live");
      document.body.dataset.ready = "true";
      render();
    });
    source.addEventListener("error", () => {
      setConnection("reconnecting");
      // CONNECTING: the browser retries by itself. CLOSED: it gave up; get a new ticket.
      if (source.readyState === EventSource.CLOSED && generation === state.generation) {
        reconnectLater(region, generation);
      }
    });
  }

  function setConnection(which) {
    const node = $("connection");
    node.dataset.state = which;
    node.textContent = which === "live" ? "● " + label("live", "Live")
      : label("reconnecting", "Reconnecting…");
  }

  // --- rendering -------------------------------------------------------------------------------

  function render() {
    const filter = $("status").value;
    const views = [...state.views.values()]
      .filter((view) => !filter || view.status === filter)
      .sort((a, b) => ((b.updated && b.updated.utc) || "").localeCompare((a.updated && a.updated.utc) || ""));
    $("cases").replaceChildren(...views.map(card));
    $("empty").hidden = views.length > 0;
    const count = new Intl.NumberFormat(state.region.intl_locale).format(views.length);
    $("summary").textContent = label("cases_shown", "Cases shown: %(count)s").replace("%(count)s", count);
    refreshAges();
  }

  function money(value) {
    return value ? el("span", { class: "money" }, value.formatted) : null;
  }

  function time(value) {
    if (!value) return null;
    return el("span", {},
      el("time", { datetime: value.utc, title: value.local }, value.formatted),
      " ",
      el("span", { class: "ago", "data-utc": value.utc }, value.relative));
  }

  function fact(list, key, fallback, ...value) {
    const parts = value.filter((v) => v !== null && v !== undefined && v !== "");
    if (!parts.length) return;
    list.append(el("div", { class: "fact fact-" + key },
      el("dt", {}, label(key, fallback)), el("dd", {}, ...parts)));
  }

  function card(view) {
    const breached = Boolean((view.alert && view.alert.kind === "breach")
      || (view.deadline && view.deadline.breached));
    const headingId = "case-" + view.case_id.replace(/[^A-Za-z0-9_-]/g, "_");
    // Headed by what an agent searches for (order or tracking number); views rendered before
    // the worker sent a headline fall back to the case id.
    const headline = view.headline
      || { kind: "case", label: label("case", "Case"), value: view.case_id };
    const badges = el("p", { class: "badges" },
      el("span", { class: "badge status status-" + view.status }, view.status_label));
    if (view.alert) {
      badges.append(el("span", { class: "badge alert alert-" + view.alert.kind, role: "note" },
        (view.alert.kind === "breach" ? "⚠ " : "⏰ ") + view.alert.label));
    }
    if (view.reason) {
      badges.append(el("span", { class: "badge translation translation-" + view.reason.state },
        view.reason.state_label));
    }
    const facts = el("dl", { class: "facts" });
    if (headline.kind !== "order") fact(facts, "order", "Order", view.order_id);
    fact(facts, "case_type", "Type", view.case_type_label);
    fact(facts, "reason", "Reason", view.reason_label);
    fact(facts, "requested", "Requested", money(view.requested));
    if (view.refunded.length) {
      fact(facts, "refunded", "Refunded", ...view.refunded.map((m, i) =>
        i ? el("span", {}, ", ", money(m)) : money(m)));
    }
    fact(facts, "order_total", "Order total", money(view.order_total));
    fact(facts, "opened", "Opened", time(view.opened));
    fact(facts, "updated", "Updated", time(view.updated));
    fact(facts, "marketplace", "Marketplace", view.marketplace);
    fact(facts, "buyer_country", "Buyer country", view.buyer_country_name || view.buyer_country);
    if (view.return_shipment) {
      const s = view.return_shipment;
      fact(facts, "return_shipment", "Return shipment",
        s.status_label, s.carrier ? " · " + s.carrier : "", " · ",
        el("bdi", { class: "tracking" }, s.tracking_number));
    }
    if (view.customs) {
      const c = view.customs;
      fact(facts, "customs", "Customs", c.status_label,
        c.country_name ? " · " + c.country_name : "", c.duties ? " · " : "", money(c.duties));
    }
    if (view.deadline) {
      const d = view.deadline;
      fact(facts, "deadline", "Deadline", time(d.at), " — ",
        el("strong", { class: d.breached ? "overdue" : "due" }, d.remaining));
    } else if (view.alert) {
      fact(facts, "deadline", "Deadline", time(view.alert.due));
    }
    const children = [
      el("header", {},
        el("h2", { id: headingId },
          el("span", { class: "case-label" }, headline.label), " ",
          el("bdi", { class: "case-headline headline-" + headline.kind }, headline.value)),
        headline.kind === "case" ? null
          : el("p", { class: "case-ref" }, label("case", "Case") + " ", el("bdi", { class: "case-id" }, view.case_id)),
        badges),
      facts,
    ];
    if (view.reason) children.push(reasonTexts(view));
    return el("li", {
      class: "case" + (breached ? " breached" : "") + (view.alert ? " alerted" : ""),
      "data-case-id": view.case_id, "data-status": view.status, "data-version": view.version,
      "data-translation": view.reason ? view.reason.state : null,
    }, el("article", { "aria-labelledby": headingId }, ...children));
  }

  function reasonTexts(view) {
    const r = view.reason;
    const original = el("figure", { class: "text original" },
      el("figcaption", {}, label("original_text", "Original text")),
      el("blockquote", { lang: r.language || null, dir: "auto" }, r.original));
    const translatedBody = r.translated
      ? el("blockquote", { lang: bcp47(state.region), dir: state.region.direction }, r.translated)
      : el("p", { class: "translation-note translation-" + r.state }, r.state_label);
    const translated = el("figure", { class: "text translated" },
      el("figcaption", {}, label("translated_text", "Translation")), translatedBody);
    return el("div", { class: "texts" }, original, translated);
  }

  const UNITS = [["year", 31536e6], ["month", 2592e6], ["day", 864e5], ["hour", 36e5],
                 ["minute", 6e4], ["second", 1e3]];

  function refreshAges() {
    if (!state.region) return;
    const format = new Intl.RelativeTimeFormat(state.region.intl_locale, { numeric: "auto" });
    const now = Date.now();
    for (const node of document.querySelectorAll(".ago[data-utc]")) {
      const delta = Date.parse(node.dataset.utc) - now;
      const [unit, size] = UNITS.find(([, ms]) => Math.abs(delta) >= ms) || UNITS[UNITS.length - 1];
      const text = "(" + format.format(Math.round(delta / size), unit) + ")";
      if (node.textContent !== text) node.textContent = text;
    }
  }

  // --- wiring ----------------------------------------------------------------------------------

  document.addEventListener("DOMContentLoaded", () => {
    $("access").addEventListener("submit", (event) => {
      event.preventDefault();
      const token = $("token").value.trim();
      if (token) openFeeds(token);
    });
    $("region").addEventListener("change", (event) => chooseRegion(event.target.value));
    $("status").addEventListener("change", render);
    // `hub run` prints links with the demo token in the fragment (#token=...): a fragment is
    // never sent to the server, so it stays out of request logs; it is removed from the address
    // bar (and so from history and bookmarks) before anything else, and kept like a typed one.
    const fromLink = new URLSearchParams(location.hash.slice(1)).get("token");
    if (fromLink) {
      history.replaceState(null, "", location.pathname + location.search);
      sessionStorage.setItem("feed-token", fromLink);
    }
    const saved = sessionStorage.getItem("feed-token");
    if (saved) {
      $("token").value = saved;
      openFeeds(saved);
    }
  });
})();
