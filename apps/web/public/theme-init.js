// Applies the theme before first paint: the remembered one, else the system's (the app
// keeps it in step afterwards; the stylesheet only reads data-theme). A file, not an
// inline script, so the Content-Security-Policy can forbid inline scripts.
(function () {
  var pref = null;
  try {
    pref = localStorage.getItem('ewm.theme');
  } catch (e) {}
  document.documentElement.dataset.theme =
    pref === 'dark' || pref === 'light' ? pref : matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
})();
