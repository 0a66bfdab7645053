// salesops: the one hand-written script. Opens the navigation on small screens.
document.addEventListener("click", function (e) {
  var t = e.target.closest(".menu-toggle");
  if (t) { t.closest(".side").classList.toggle("open"); }
});
