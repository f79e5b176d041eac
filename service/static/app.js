// Snapline's page script. No inline script anywhere (the CSP forbids it); every
// enhancement here is optional: pages work without JavaScript.
"use strict";

(function () {
  const UNITS = [
    [365 * 86400, "y"], [7 * 86400, "w"], [86400, "d"], [3600, "h"], [60, "min"],
  ];

  function relative(date) {
    const seconds = Math.floor((Date.now() - date.getTime()) / 1000);
    if (seconds < 45) return "just now";
    for (const [size, unit] of UNITS) {
      if (seconds >= size) return Math.floor(seconds / size) + " " + unit + " ago";
    }
    return "just now";
  }

  // Keeps "3 min ago" true while a page stays open.
  function refreshTimes(root) {
    for (const element of (root || document).querySelectorAll("time[data-relative]")) {
      const date = new Date(element.getAttribute("datetime"));
      if (!Number.isNaN(date.getTime())) element.textContent = relative(date);
    }
  }

  window.Snapline = Object.assign(window.Snapline || {}, {
    csrfToken: () => document.querySelector('meta[name="csrf-token"]').content,
    refreshTimes,
  });

  document.addEventListener("DOMContentLoaded", () => {
    refreshTimes();
    setInterval(refreshTimes, 60 * 1000);
  });
})();
