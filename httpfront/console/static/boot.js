// boot.js: a classic script that says so in words when the console's
// modules did not start (they run before the load event), instead of
// leaving "Loading" on the page.
window.addEventListener('load', function () {
  if (document.documentElement.getAttribute('data-started')) return;
  var main = document.getElementById('main');
  main.textContent = 'The console could not start: its scripts did not load or failed in this browser. ' +
    'Reload the page, or use a current browser. The Nacos API under /nacos/v1 works without the console.';
  main.className = 'error';
});
