// Returns the payer to the merchant at once; without JavaScript the visible button does it.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("return-to-merchant");
  if (form) { form.submit(); }
});
