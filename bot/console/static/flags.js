// Keeps the flags table current without a reload, and calls attention to a new emergency:
// a red banner (role=alert, read out by screen readers) and, once sound is turned on, a tone.
(function () {
  "use strict";
  var body = document.getElementById("flag-rows");
  if (!body) { return; }
  var alarm = document.getElementById("alarm");
  var soundButton = document.getElementById("sound");
  var audio = null;
  var newest = null;

  function tone() {
    if (!audio) { return; }
    var osc = audio.createOscillator();
    var gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.value = 0.2;
    osc.connect(gain); gain.connect(audio.destination);
    osc.start(); osc.stop(audio.currentTime + 0.6);
  }

  soundButton.addEventListener("click", function () {
    // Browsers play sound only after a person has clicked on the page.
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!audio && Context) { audio = new Context(); }
    soundButton.textContent = "Sound is on";
    soundButton.disabled = true;
    tone();
  });

  function refresh() {
    fetch(body.dataset.src, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (response.redirected || response.status === 401 || response.status === 303) {
          window.location.assign("/signin?next=" + encodeURIComponent(window.location.pathname + window.location.search));
          return null;
        }
        if (!response.ok) { return null; }
        var id = parseInt(response.headers.get("X-Newest-Emergency") || "0", 10);
        return response.text().then(function (html) {
          body.innerHTML = html;
          if (newest !== null && id > newest) {
            alarm.hidden = false;
            document.title = "(!) New emergency · " + document.title.replace(/^\(!\) New emergency · /, "");
            tone();
          }
          newest = newest === null ? id : Math.max(newest, id);
        });
      })
      .catch(function () { /* offline for a moment: the next poll tries again */ });
  }

  refresh();
  window.setInterval(refresh, 4000);
})();
