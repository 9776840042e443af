// The page's own script, sent inline as plain JavaScript (no build step). It follows /api/v1/events: a run
// that starts or ends fetches the page's content again (at most one fetch at a time, coalesced), job output
// goes to the live log (the last 300 lines), and the buttons call the API.
export const CLIENT_SCRIPT = `
"use strict";
(function () {
  var content = document.getElementById("content");
  var notice = document.getElementById("notice");
  var live = document.getElementById("live");
  var log = document.getElementById("log");
  var logJob = document.getElementById("log-job");
  var REFRESHING = { started: 1, finished: 1, skipped: 1, queued: 1, missed: 1, paused: 1, resumed: 1,
    reload_applied: 1, timed_out: 1, killed: 1, retrying: 1 };
  var inFlight = false, again = false;
  function refresh() {
    if (inFlight) { again = true; return; }
    inFlight = true;
    fetch("./?fragment=content", { cache: "no-store" }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.text();
    }).then(function (html) { content.innerHTML = html; }).catch(function (error) {
      say("could not refresh: " + error.message);
    }).then(function () {
      inFlight = false;
      if (again) { again = false; window.setTimeout(refresh, 200); }
    });
  }
  function say(text) { notice.textContent = text; }
  var lines = [];
  function addLine(event) {
    if (logJob.value && event.job !== logJob.value) return;
    var text = event.time.slice(11, 19) + " " + (event.job || "") + (event.run ? "[" + event.run + "]" : "") + " ";
    text += event.event === "output" ? (event.stream === "stderr" ? "! " : "| ") + event.line : event.event +
      (event.exit_code !== undefined ? " exit " + event.exit_code : "") + (event.reason ? ": " + event.reason : "");
    lines.push(text);
    if (lines.length > 300) lines.shift();
    var atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.textContent = lines.join("\\n");
    if (atBottom) log.scrollTop = log.scrollHeight;
  }
  logJob.addEventListener("change", function () { lines = []; log.textContent = ""; });
  var source = new EventSource("./api/v1/events");
  source.onopen = function () { live.textContent = "live"; live.className = "live on"; refresh(); };
  source.onerror = function () { live.textContent = "reconnecting…"; live.className = "live off"; };
  source.onmessage = function (message) {
    var event;
    try { event = JSON.parse(message.data); } catch (e) { return; }
    if (event.event === "output" || event.job) addLine(event);
    if (REFRESHING[event.event]) refresh();
  };
  document.addEventListener("click", function (click) {
    var button = click.target.closest && click.target.closest("button[data-action]");
    if (!button) return;
    var job = button.getAttribute("data-job"), action = button.getAttribute("data-action");
    button.disabled = true;
    fetch("./api/v1/jobs/" + encodeURIComponent(job) + "/" + action, { method: "POST" }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) say(body.error || "HTTP " + response.status);
        else if (action === "run") say(job + ": " + (body.run ? "run " + body.run + " started" : body.status));
        else say(job + (action === "pause" ? " paused" : " resumed"));
      });
    }).catch(function (error) { say(action + " failed: " + error.message); }).then(function () {
      button.disabled = false;
      refresh();
    });
  });
  // Relative times ("in 3h") age: refresh them now and then even when nothing happens.
  window.setInterval(refresh, 30000);
})();
`;
