// Live count for "Text the patient" (item page). The rule is dialogs/sms_rules.py's, and the
// server renders its character sets and limits onto the box (data-*), so both count alike:
// the text goes as "<pharmacy>: <words>", runs of whitespace collapsed; it fits one text at
// 160 GSM-7 characters (those of the extension table count twice), or 70 UTF-16 units when
// any character is outside GSM-7. It also warns when the words name one of the patient's
// medicines and the patient has not agreed to that (the server asks to confirm in any case).
(function () {
  "use strict";
  var box = document.getElementById("body");
  if (!box || !box.dataset.gsm7Basic) return;
  var counter = document.getElementById("body-count");
  var medicinesNote = document.getElementById("body-medicines");
  var basic = new Set(Array.from(box.dataset.gsm7Basic));
  var extension = new Set(Array.from(box.dataset.gsm7Extension));
  var gsmLimit = Number(box.dataset.gsm7Limit);
  var ucsLimit = Number(box.dataset.ucs2Limit);
  var spaces = new Set(Array.from(box.dataset.whitespace));
  var prefix = box.dataset.prefix;
  var medicineWords = box.dataset.medicineWords ? JSON.parse(box.dataset.medicineWords) : [];

  // Python's " ".join(words.split()): split on its whitespace, drop empty pieces.
  function collapse(text) {
    var words = [], word = "";
    Array.from(text).forEach(function (ch) {
      if (spaces.has(ch)) { if (word) { words.push(word); word = ""; } } else { word += ch; }
    });
    if (word) words.push(word);
    return words.join(" ");
  }

  function measure(text) {
    var chars = Array.from(text);
    var outside = chars.filter(function (ch) { return !basic.has(ch) && !extension.has(ch); });
    if (outside.length === 0) {
      var doubled = chars.filter(function (ch) { return extension.has(ch); }).length;
      return { units: chars.length + doubled, limit: gsmLimit, outside: [] };
    }
    return { units: text.length, limit: ucsLimit, outside: Array.from(new Set(outside)) };
  }

  function fold(text) {
    return text.toLowerCase().normalize("NFKD").replace(/\p{M}/gu, "");
  }

  function namedMedicines(words) {
    var textWords = fold(words).match(/\p{L}+/gu) || [];
    return medicineWords.filter(function (name) {
      return textWords.some(function (w) { return w.indexOf(name) === 0; });
    });
  }

  function update() {
    var words = collapse(box.value);
    var m = measure(prefix + words);
    var line = m.units + " of " + m.limit + " characters, with the pharmacy name.";
    if (m.units > m.limit) {
      line = m.units + " of " + m.limit + " characters: " + (m.units - m.limit) +
        " too many for one text.";
    }
    if (m.outside.length) {
      line += " Some characters (" + m.outside.slice(0, 5).join(", ") +
        ") make a text shorter: up to " + ucsLimit + " characters instead of " + gsmLimit + ".";
    }
    counter.textContent = words ? line : "";
    counter.dataset.units = String(m.units);
    counter.dataset.limit = String(m.limit);
    counter.classList.toggle("field-error", m.units > m.limit);
    var named = words ? namedMedicines(words) : [];
    medicinesNote.hidden = named.length === 0;
    medicinesNote.textContent = named.length
      ? "This text names a medicine (" + named.join(", ") +
        ") and this patient has not agreed to medicine names in texts."
      : "";
  }

  box.addEventListener("input", update);
  update();
})();
