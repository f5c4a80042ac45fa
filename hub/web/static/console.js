// Support console: one region's work queue, live, where agents act on cases.
//
// Every field of a case view arrives already localized by the worker (labels, amounts, dates,
// digits, history); this page lays them out. Page strings come from the worker in the region's
// language (GET /console/locale/{region} before sign-in, GET /feeds after); the clock, ages and
// deadline countdowns use the browser's Intl API with the region's locale, digits and time
// zone. The queue is searched, filtered, sorted and paged by the worker (GET /queue/{region});
// the live stream (Server-Sent Events) only says that something changed, and the loaded part of
// the queue is fetched again and updated in place, keeping focus and scroll. Actions are posted
// to POST /cases/{id}/actions with a client action id (a retry repeats it). No framework, no
// build step; text is set with textContent only.
"use strict";

(function () {
  const RETRY_MS = 3000;
  const PAGE = 50;
  const REFRESH_MS = 250;
  const $ = (id) => document.getElementById(id);
  const state = {
    token: null,
    regions: [],
    region: null,
    me: null,
    team: [],
    views: new Map(),
    order: [],
    next: null,
    focused: null,
    source: null,
    generation: 0,
    queueGeneration: 0,
    backoff: RETRY_MS,
    retryTimer: null,
    refreshTimer: null,
    clockTimer: null,
    streamReady: false,
    locale: null,
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
    const labels = state.region ? state.region.labels : (state.locale ? state.locale.labels : {});
    return labels[key] || fallback;
  }

  function fill(text, values) {
    return text.replace(/%\((\w+)\)s/g, (_, name) => (name in values ? values[name] : ""));
  }

  function bcp47(region) {
    return region.intl_locale.split("-u-")[0];
  }

  function setText(id, text) {
    const node = $(id);
    if (node && node.textContent !== text) node.textContent = text;
  }

  function actionId() {
    if (window.crypto && crypto.randomUUID) return "console-" + crypto.randomUUID();
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return "console-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // --- sign-in, in the region's language ----------------------------------------------------

  async function localizeSignIn() {
    const wanted = new URLSearchParams(location.search).get("region");
    if (!wanted) return;
    try {
      const response = await fetch("/console/locale/" + encodeURIComponent(wanted));
      if (!response.ok) return;
      state.locale = await response.json();
    } catch (exc) {
      return;
    }
    if (state.region) return; // already signed in meanwhile
    const root = document.documentElement;
    root.lang = bcp47(state.locale);
    root.dir = state.locale.direction;
    setText("title", label("title", "Support console"));
    setText("token-label", label("token", "Agent or team token"));
    setText("open", label("open", "Open console"));
    document.title = label("title", "Support console");
  }

  async function openConsole(token) {
    const error = $("access-error");
    error.hidden = true;
    let response;
    try {
      response = await fetch("/feeds", { headers: { Authorization: "Bearer " + token } });
    } catch (exc) {
      error.textContent = label("unreachable", "The hub cannot be reached.");
      error.hidden = false;
      return;
    }
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      error.textContent = response.status === 401
        ? label("bad_token", "This token is not valid for any region.")
        : response.status + ": " + (body.detail || "");
      error.hidden = false;
      return;
    }
    const body = await response.json();
    state.token = token;
    state.regions = body.regions;
    sessionStorage.setItem("feed-token", token);
    try {
      const agents = await fetch("/agents", { headers: { Authorization: "Bearer " + token } });
      if (agents.ok) {
        const who = await agents.json();
        state.me = who.me;
        state.team = who.agents;
      }
    } catch (exc) { /* reading still works without the team list */ }
    const select = $("region");
    select.replaceChildren(...state.regions.map((region) =>
      el("option", { value: region.code, lang: bcp47(region) },
        (region.display_name || region.name) + " (" + region.code + ")")));
    $("controls").hidden = false;
    $("filters").hidden = false;
    $("dashboard").hidden = false;
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
    state.order = [];
    state.focused = null;
    $("cases").replaceChildren();
    localize(region);
    connect(region);
    loadQueue(true);
  }

  // --- page strings, language and direction ------------------------------------------------

  function options(select, entries, allLabel) {
    const current = select.value;
    select.replaceChildren(el("option", { value: "" }, allLabel),
      ...entries.map(([value, text]) => el("option", { value }, text)));
    select.value = entries.some(([value]) => value === current) ? current : "";
  }

  function localize(region) {
    const root = document.documentElement;
    root.lang = bcp47(region);
    root.dir = region.direction;
    const list = $("cases");
    list.lang = bcp47(region);
    list.dir = region.direction;
    document.title = label("title", "Support console") + " · " + (region.display_name || region.name);
    const texts = {
      "title": ["title", "Support console"], "region-label": ["region", "Region"],
      "status-label": ["status", "Status"], "clock-label": ["local_time", "Local time"],
      "empty": ["no_cases", "No cases in this feed yet"],
      "search-label": ["search", "Search by order, tracking, return or claim number"],
      "search-button": ["search_button", "Search"], "sla-label": ["sla", "SLA"],
      "assignee-label": ["assignee", "Assignee"], "marketplace-label": ["marketplace", "Marketplace"],
      "reason-label": ["reason", "Reason"], "closed-label": ["show_closed", "Show closed cases"],
      "more": ["more", "Load more"], "dash-open-label": ["open_cases", "Open cases"],
      "dash-first-label": ["first_response", "Time to first response"],
      "dash-fcr-label": ["first_contact_resolution", "First-contact resolution"],
      "act-take": ["take", "Take"], "assign-label": ["assign_to", "Assign to"],
      "act-escalate": ["escalate", "Escalate"], "act-close": ["close", "Close case"],
      "template-label": ["template", "Template"], "reply-label": ["reply", "Reply"],
      "reply-send": ["send", "Send"], "note-label": ["note", "Add note"],
      "note-send": ["send", "Send"], "request-label": ["request_info", "Request information"],
      "request-send": ["send", "Send"], "resolution-label": ["propose", "Propose"],
      "amount-label": ["amount", "Amount"], "proposal-reason-label": ["reason", "Reason"],
      "propose-send": ["send", "Send"],
      "keys": ["keys", "Keys: j/k next/previous, t take, r reply, n note, e escalate, c close, / search"],
    };
    for (const [id, [key, fallback]] of Object.entries(texts)) setText(id, label(key, fallback));
    const all = label("all", "All");
    options($("status"), Object.entries(region.status_labels), label("all_statuses", "All statuses"));
    options($("sla"), [["breached", label("breached", "Breached")],
      ["at_risk", label("at_risk", "At risk")], ["on_track", label("on_track", "On track")]], all);
    const assignees = [["none", label("unassigned", "Unassigned")]];
    if (state.me && state.me.region === region.code) assignees.unshift(["me", label("mine", "Assigned to me")]);
    options($("assignee"), assignees, all);
    options($("marketplace"), Object.entries(region.marketplaces || {}), all);
    options($("reason"), Object.entries(region.reason_labels || {}), all);
    const acting = Boolean(state.me && state.me.region === region.code);
    const whoami = $("whoami");
    whoami.hidden = !state.me;
    if (state.me) whoami.textContent = fill(label("signed_in_as", "Signed in as %(name)s"), { name: state.me.name });
    $("assign-to").replaceChildren(...(acting ? state.team : []).map((agent) =>
      el("option", { value: agent.agent_id }, agent.name)));
    if (acting) $("assign-to").value = state.me.agent_id;
    $("template").replaceChildren(el("option", { value: "" }, "—"),
      ...Object.entries(region.reply_templates || {}).map(([id, text]) =>
        el("option", { value: id }, text.length > 60 ? text.slice(0, 57) + "…" : text)));
    $("resolution").replaceChildren(...Object.entries(region.resolution_labels || {}).map(
      ([value, text]) => el("option", { value }, text)));
    $("evidence").replaceChildren(...Object.entries(region.evidence_labels || {}).map(
      ([value, text]) => el("label", { class: "check" },
        el("input", { type: "checkbox", name: "evidence", value }), " ", text)));
    $("panel").dataset.acting = acting ? "true" : "false";
    startClock(region);
  }

  function zoneName(region) {
    try {
      const parts = new Intl.DateTimeFormat(region.intl_locale, {
        timeZone: region.time_zone, timeZoneName: "long",
      }).formatToParts(new Date());
      const found = parts.find((part) => part.type === "timeZoneName");
      return found ? found.value : region.time_zone;
    } catch (exc) {
      return region.time_zone;
    }
  }

  function startClock(region) {
    const format = new Intl.DateTimeFormat(region.intl_locale, {
      timeZone: region.time_zone, dateStyle: "full", timeStyle: "medium",
    });
    const clock = $("clock");
    $("zone").textContent = zoneName(region);
    $("zone").title = region.time_zone;
    $("clock-line").hidden = false;
    const tick = () => {
      const now = new Date();
      clock.dateTime = now.toISOString();
      clock.textContent = format.format(now);
      refreshAges();
      refreshCountdowns();
    };
    clearInterval(state.clockTimer);
    tick();
    state.clockTimer = setInterval(tick, 1000);
  }

  // --- the queue -----------------------------------------------------------------------------

  function queueQuery(limit, cursor) {
    const params = new URLSearchParams();
    const search = $("search").value.trim();
    if (search) params.set("q", search);
    for (const id of ["status", "sla", "assignee", "marketplace", "reason"]) {
      if ($(id).value) params.set(id, $(id).value);
    }
    if ($("closed").checked) params.set("closed", "1");
    params.set("limit", String(limit));
    if (cursor) params.set("cursor", cursor);
    return params;
  }

  async function loadQueue(reset, cursor) {
    const region = state.region;
    if (!region) return;
    const generation = ++state.queueGeneration;
    const limit = reset ? Math.min(200, Math.max(PAGE, cursor ? PAGE : state.order.length)) : PAGE;
    const url = "/queue/" + encodeURIComponent(region.code) + "?" + queueQuery(limit, cursor);
    let body;
    try {
      const response = await fetch(url, { headers: { Authorization: "Bearer " + state.token } });
      if (!response.ok) return;
      body = await response.json();
    } catch (exc) {
      return;
    }
    if (generation !== state.queueGeneration || region !== state.region) return;
    if (reset) {
      state.views = new Map();
      state.order = [];
    }
    for (const view of body.cases) {
      state.views.set(view.case_id, view);
      if (!state.order.includes(view.case_id)) state.order.push(view.case_id);
    }
    state.next = body.next;
    state.total = body.total;
    render();
    dashboard(body.stats);
    if (state.streamReady) document.body.dataset.ready = "true";
  }

  function scheduleRefresh() {
    clearTimeout(state.refreshTimer);
    state.refreshTimer = setTimeout(() => loadQueue(true), REFRESH_MS);
  }

  function dashboard(stats) {
    const region = state.region;
    const numbers = new Intl.NumberFormat(region.intl_locale);
    setText("dash-open", numbers.format(stats.open_cases));
    const seconds = stats.first_response_median_seconds;
    let first = "—";
    if (seconds !== null && seconds !== undefined) {
      const [unit, size] = seconds >= 86400 ? ["day", 86400] : seconds >= 3600 ? ["hour", 3600]
        : seconds >= 60 ? ["minute", 60] : ["second", 1];
      first = new Intl.NumberFormat(region.intl_locale, {
        style: "unit", unit, unitDisplay: "long", maximumFractionDigits: 1,
      }).format(seconds / size);
    }
    setText("dash-first", first);
    $("dash-first").dataset.count = String(stats.first_responses);
    const fcr = stats.first_contact_resolution;
    setText("dash-fcr", fcr === null || fcr === undefined ? "—"
      : new Intl.NumberFormat(region.intl_locale, { style: "percent" }).format(fcr));
  }

  // --- live stream: a change anywhere in the region refreshes the loaded queue ----------------

  // The stream is opened with a short-lived ticket, not the token: EventSource cannot send an
  // Authorization header, and a token in a URL ends up in logs.
  async function streamTicket(region) {
    const response = await fetch("/feeds/" + encodeURIComponent(region.code) + "/ticket", {
      method: "POST", headers: { Authorization: "Bearer " + state.token },
    });
    if (!response.ok) throw new Error("ticket refused: " + response.status);
    return (await response.json()).ticket;
  }

  function reconnectLater(region, generation) {
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
    state.streamReady = false;
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
    if (generation !== state.generation) return;
    const url = "/feeds/" + encodeURIComponent(region.code) + "/stream?ticket="
      + encodeURIComponent(ticket);
    const source = new EventSource(url);
    state.source = source;
    source.addEventListener("case", (event) => {
      const view = JSON.parse(event.data);
      const known = state.views.get(view.case_id);
      if (known && known.version === view.version && known.reason && view.reason
          && known.reason.state === view.reason.state) return; // nothing new for this page
      if (state.streamReady) scheduleRefresh();
    });
    source.addEventListener("removed", () => { if (state.streamReady) scheduleRefresh(); });
    source.addEventListener("ready", () => {
      state.backoff = RETRY_MS;
      state.streamReady = true;
      setConnection("live");
      loadQueue(true);
    });
    source.addEventListener("error", () => {
      setConnection("reconnecting");
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

  // --- rendering: cards keyed by case id, replaced only when their view changed ------------

  function render() {
    const list = $("cases");
    const hadFocus = list.contains(document.activeElement) ? state.focused : null;
    const wanted = state.order.filter((id) => state.views.has(id));
    const existing = new Map([...list.children].map((node) => [node.dataset.caseId, node]));
    let previous = null;
    for (const id of wanted) {
      const view = state.views.get(id);
      let node = existing.get(id);
      if (!node || node.dataset.version !== String(view.version) || node.dataset.stamp !== stamp(view)) {
        const fresh = card(view);
        if (node) {
          if (id === state.focused) announce(view, node);
          node.replaceWith(fresh);
        }
        node = fresh;
      }
      existing.delete(id);
      const anchor = previous ? previous.nextSibling : list.firstChild;
      if (node !== anchor) list.insertBefore(node, anchor);
      previous = node;
    }
    for (const gone of existing.values()) gone.remove();
    for (const node of list.children) {
      node.tabIndex = node.dataset.caseId === (state.focused || wanted[0]) ? 0 : -1;
    }
    if (hadFocus && state.views.has(hadFocus)) {
      const again = caseNode(hadFocus);
      if (again && document.activeElement !== again && !again.contains(document.activeElement)) {
        again.focus({ preventScroll: true });
      }
    }
    $("empty").hidden = wanted.length > 0;
    $("more").hidden = !state.next;
    const count = new Intl.NumberFormat(state.region.intl_locale).format(wanted.length);
    $("summary").textContent = label("cases_shown", "Cases shown: %(count)s").replace("%(count)s", count);
    updatePanel();
    refreshAges();
    refreshCountdowns();
  }

  function stamp(view) {
    return (view.reason ? view.reason.state : "") + "|" + (view.alert ? view.alert.kind : "")
      + "|" + (view.sla_state || "");
  }

  function caseNode(caseId) {
    return [...$("cases").children].find((node) => node.dataset.caseId === caseId) || null;
  }

  function announce(view, before) {
    // Only the case in focus is announced: a busy queue would otherwise talk all the time.
    const headline = view.headline ? view.headline.value : view.case_id;
    const last = view.history && view.history.length ? view.history[view.history.length - 1] : null;
    const parts = [headline, view.status_label];
    if (last && before.dataset.historyLength !== String(view.history.length)) {
      parts.push(last.agent.name + ": " + last.label);
    }
    $("announce").textContent = parts.join(" — ");
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
    if (view.escalated) {
      badges.append(el("span", { class: "badge escalated" }, "⇪ " + label("escalated_badge",
        (view.history || []).filter((h) => h.kind === "escalate").map((h) => h.label)[0] || "Escalated")));
    }
    badges.append(el("span", { class: "badge assignee" + (view.assignee ? "" : " unassigned") },
      view.assignee ? "👤 " + view.assignee.name : label("unassigned", "Unassigned")));
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
    fact(facts, "first_reply", "First reply", time(view.first_reply));
    fact(facts, "marketplace", "Marketplace", view.marketplace_name || view.marketplace);
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
    const due = view.deadline ? view.deadline.at.utc : (view.alert ? view.alert.due.utc : null);
    if (view.deadline) {
      const d = view.deadline;
      fact(facts, "deadline", "Deadline", time(d.at), " — ",
        el("strong", { class: d.breached ? "overdue" : "due" }, d.remaining), " ",
        el("span", { class: "countdown", "data-due": due, role: "timer" }));
    } else if (view.alert) {
      fact(facts, "deadline", "Deadline", time(view.alert.due), " ",
        el("span", { class: "countdown", "data-due": due, role: "timer" }));
    }
    if (view.proposal) {
      const p = view.proposal;
      fact(facts, "proposal", "Proposed resolution", p.label, p.amount ? " · " : "", money(p.amount),
        p.reason ? " · " + p.reason : "");
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
    if (view.history && view.history.length) children.push(historySection(view));
    const node = el("li", {
      class: "case" + (breached ? " breached" : "") + (view.alert ? " alerted" : ""),
      "data-case-id": view.case_id, "data-status": view.status, "data-version": view.version,
      "data-translation": view.reason ? view.reason.state : null,
      "data-sla": view.sla_state || null,
      "data-assignee": view.assignee ? view.assignee.agent_id : null,
      "data-history-length": String((view.history || []).length),
      tabindex: "-1", "aria-current": view.case_id === state.focused ? "true" : null,
    }, el("article", { "aria-labelledby": headingId }, ...children));
    node.dataset.stamp = stamp(view);
    node.addEventListener("focus", () => focusCase(view.case_id, false));
    node.addEventListener("click", () => focusCase(view.case_id, false));
    return node;
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

  function historySection(view) {
    const items = view.history.map((entry) => {
      const details = [];
      if (entry.assignee) details.push(el("p", { class: "detail" }, "→ ", entry.assignee.name));
      if (entry.note) details.push(el("p", { class: "detail note", dir: "auto" }, entry.note));
      if (entry.evidence.length) {
        details.push(el("p", { class: "detail evidence" }, label("evidence_requested", "Evidence requested") + ": "
          + entry.evidence.join(", ")));
      }
      if (entry.request_text) details.push(el("p", { class: "detail", dir: "auto" }, entry.request_text));
      if (entry.proposal) {
        details.push(el("p", { class: "detail proposal" }, entry.proposal.label,
          entry.proposal.amount ? " · " : "", money(entry.proposal.amount),
          entry.proposal.reason ? " · " + entry.proposal.reason : ""));
      }
      if (entry.reply) {
        const reply = entry.reply;
        details.push(el("div", { class: "texts reply" },
          el("figure", { class: "text reply-original" },
            el("figcaption", {}, label("original_text", "Original text")),
            el("blockquote", { lang: reply.language, dir: "auto" }, reply.text)),
          el("figure", { class: "text reply-buyer" },
            el("figcaption", {}, label("buyer_sees", "The buyer receives")
              + (reply.buyer_language_name ? " (" + reply.buyer_language_name + ")" : "")),
            el("blockquote", { lang: reply.buyer_language, dir: "auto" }, reply.buyer_text),
            el("p", { class: "badge reply-translation translation-" + reply.translation }, reply.translation_label))));
      }
      return el("li", { class: "history-entry kind-" + entry.kind, "data-kind": entry.kind },
        el("p", { class: "who" },
          el("time", { datetime: entry.at.utc, title: entry.at.local }, entry.at.formatted), " · ",
          el("bdi", { class: "agent" }, entry.agent.name), " — ",
          el("span", { class: "what" }, entry.label)),
        ...details);
    });
    return el("section", { class: "history" },
      el("h3", {}, label("history", "History")), el("ol", {}, ...items));
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

  function refreshCountdowns() {
    if (!state.region) return;
    const two = new Intl.NumberFormat(state.region.intl_locale, { minimumIntegerDigits: 2 });
    const now = Date.now();
    for (const node of document.querySelectorAll(".countdown[data-due]")) {
      const delta = Math.round((Date.parse(node.dataset.due) - now) / 1000);
      const left = Math.abs(delta);
      const text = (delta < 0 ? "−" : "") + [Math.floor(left / 3600), Math.floor(left / 60) % 60, left % 60]
        .map((part) => two.format(part)).join(":");
      if (node.textContent !== text) node.textContent = text;
      node.dataset.overdue = delta < 0 ? "true" : "false";
    }
  }

  // --- acting on the case in focus ------------------------------------------------------------

  function focusCase(caseId, move) {
    if (state.focused !== caseId) {
      state.focused = caseId;
      for (const node of $("cases").children) {
        const mine = node.dataset.caseId === caseId;
        node.tabIndex = mine ? 0 : -1;
        if (mine) node.setAttribute("aria-current", "true");
        else node.removeAttribute("aria-current");
      }
      updatePanel();
    }
    if (move) {
      const node = caseNode(caseId);
      if (node) {
        node.focus();
        node.scrollIntoView({ block: "nearest" });
      }
    }
  }

  function updatePanel() {
    const panel = $("panel");
    const view = state.focused ? state.views.get(state.focused) : null;
    const acting = Boolean(state.me && state.region && state.me.region === state.region.code);
    panel.hidden = !view || !acting;
    if (!view) return;
    const headline = view.headline ? view.headline.label + " " + view.headline.value : view.case_id;
    setText("panel-title", headline);
    panel.dataset.caseId = view.case_id;
  }

  function moveFocus(step) {
    const ids = [...$("cases").children].map((node) => node.dataset.caseId);
    if (!ids.length) return;
    const at = ids.indexOf(state.focused);
    const next = at < 0 ? 0 : Math.min(ids.length - 1, Math.max(0, at + step));
    focusCase(ids[next], true);
  }

  async function act(body, retry = true) {
    const caseId = state.focused;
    const error = $("panel-error");
    error.hidden = true;
    if (!caseId) return false;
    body.action_id = body.action_id || actionId();
    let response;
    try {
      response = await fetch("/cases/" + encodeURIComponent(caseId) + "/actions", {
        method: "POST",
        headers: { Authorization: "Bearer " + state.token, "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    } catch (exc) {
      if (retry) return act(body, false); // the same action id: applied once however it ends
      error.textContent = label("unreachable", "The hub cannot be reached.");
      error.hidden = false;
      return false;
    }
    if (response.status === 202) {
      $("announce").textContent = label("saved", "Saved");
      scheduleRefresh();
      return true;
    }
    const refused = await response.json().catch(() => ({}));
    error.textContent = response.status === 403 && state.me
      ? label("other_region", "This case belongs to another region.")
      : fill(label("refused", "The action was refused: %(detail)s"), { detail: refused.detail || response.status });
    error.hidden = false;
    return false;
  }

  function afterAct(ok) {
    const node = ok && state.focused ? caseNode(state.focused) : null;
    if (node) node.focus({ preventScroll: true });
  }

  async function sendReply() {
    const text = $("reply-text").value.trim();
    if (!text) return;
    const template = $("template").value || null;
    const ok = await act({ kind: "reply", text, template });
    if (ok) $("reply-text").value = "";
    afterAct(ok);
  }

  async function sendNote() {
    const note = $("note-text").value.trim();
    if (!note) return;
    const ok = await act({ kind: "note", note });
    if (ok) $("note-text").value = "";
    afterAct(ok);
  }

  // --- wiring ----------------------------------------------------------------------------------

  function typing(target) {
    return target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA"
      || target.tagName === "SELECT" || target.isContentEditable);
  }

  function onKey(event) {
    if (event.altKey || event.metaKey || (event.ctrlKey && event.key !== "Enter")) return;
    if (event.key === "Escape") {
      // Back to the queue, on the case in focus (or the first one).
      const first = $("cases").firstElementChild;
      const target = state.focused && caseNode(state.focused) ? state.focused
        : first ? first.dataset.caseId : null;
      if (target) focusCase(target, true);
      return;
    }
    if (typing(event.target)) {
      if (event.ctrlKey && event.key === "Enter") {
        if (event.target.id === "reply-text") { event.preventDefault(); sendReply(); }
        if (event.target.id === "note-text") { event.preventDefault(); sendNote(); }
      }
      return;
    }
    if (!state.region) return;
    const acting = !$("panel").hidden;
    const keys = {
      j: () => moveFocus(1), ArrowDown: () => moveFocus(1),
      k: () => moveFocus(-1), ArrowUp: () => moveFocus(-1),
      "/": () => $("search").focus(),
      t: () => acting && act({ kind: "take", assignee: $("assign-to").value || undefined }).then(afterAct),
      r: () => acting && $("reply-text").focus(),
      n: () => acting && $("note-text").focus(),
      e: () => acting && act({ kind: "escalate" }).then(afterAct),
      c: () => acting && act({ kind: "close" }).then(afterAct),
    };
    const handler = keys[event.key];
    if (handler) {
      event.preventDefault();
      handler();
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("access").addEventListener("submit", (event) => {
      event.preventDefault();
      const token = $("token").value.trim();
      if (token) openConsole(token);
    });
    $("region").addEventListener("change", (event) => chooseRegion(event.target.value));
    $("filters").addEventListener("submit", (event) => { event.preventDefault(); loadQueue(true); });
    for (const id of ["status", "sla", "assignee", "marketplace", "reason", "closed"]) {
      $(id).addEventListener("change", () => { state.order = []; loadQueue(true); });
    }
    $("more").addEventListener("click", () => loadQueue(false, state.next));
    $("act-take").addEventListener("click", () =>
      act({ kind: "take", assignee: $("assign-to").value || undefined }).then(afterAct));
    $("act-escalate").addEventListener("click", () => act({ kind: "escalate" }).then(afterAct));
    $("act-close").addEventListener("click", () => act({ kind: "close" }).then(afterAct));
    $("template").addEventListener("change", (event) => {
      const text = (state.region.reply_templates || {})[event.target.value];
      if (text) $("reply-text").value = text;
    });
    $("reply-form").addEventListener("submit", (event) => { event.preventDefault(); sendReply(); });
    $("note-form").addEventListener("submit", (event) => { event.preventDefault(); sendNote(); });
    $("request-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const evidence = [...document.querySelectorAll('#evidence input[name="evidence"]:checked')]
        .map((box) => box.value);
      if (!evidence.length) return;
      const ok = await act({ kind: "request_info", evidence });
      if (ok) for (const box of document.querySelectorAll('#evidence input')) box.checked = false;
      afterAct(ok);
    });
    $("propose-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = { kind: "propose", resolution: $("resolution").value };
      const amount = $("amount").value.trim();
      // Sent as text: the worker reads it as an exact decimal, never a float.
      if (amount) body.amount = { amount: amount.replace(",", "."), currency: $("currency").value.trim().toUpperCase() };
      const reason = $("proposal-reason").value.trim();
      if (reason) body.reason = reason;
      afterAct(await act(body));
    });
    document.addEventListener("keydown", onKey);
    // `hub run` prints links with the demo token in the fragment (#token=...): a fragment is
    // never sent to the server, so it stays out of request logs; it is removed from the address
    // bar (and so from history and bookmarks) before anything else, and kept like a typed one.
    const fromLink = new URLSearchParams(location.hash.slice(1)).get("token");
    if (fromLink) {
      history.replaceState(null, "", location.pathname + location.search);
      sessionStorage.setItem("feed-token", fromLink);
    }
    const saved = sessionStorage.getItem("feed-token");
    localizeSignIn().finally(() => {
      if (saved) {
        $("token").value = saved;
        openConsole(saved);
      }
    });
  });
})();
