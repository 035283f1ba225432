// The 3-D Secure step: Stripe.js asks the buyer's bank to confirm the
// payment (localstripe's stand-in shows a confirm/fail dialog), then the
// page moves on to the order, which says Paid once the payment is heard of,
// or offers the form again.
(function () {
  var step = document.getElementById('authenticate');
  if (!step || typeof Stripe === 'undefined') return;
  var stripe = Stripe(step.dataset.key);
  stripe.confirmCardPayment(step.dataset.secret).then(function (result) {
    var failed = result.error || !result.paymentIntent ||
      ['succeeded', 'processing'].indexOf(result.paymentIntent.status) < 0;
    window.location = step.dataset.order + (failed ? '?payment=failed' : '/paid');
  });
})();
