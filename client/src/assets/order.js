// The order page's two scripts: the countdown to the order's expiry, and
// the payment form, which turns the card into a token with Stripe.js and
// posts the form with it. Without Stripe.js, nothing here runs.
(function () {
  var countdown = document.getElementById('countdown');
  var form = document.getElementById('payment-form');
  var expiredNote = document.getElementById('expired-note');

  if (countdown) {
    var end = Date.parse(countdown.dataset.expiresAt);
    var tick = function () {
      var left = Math.max(0, Math.round((end - Date.now()) / 1000));
      countdown.textContent = Math.floor(left / 60) + ':' + String(left % 60).padStart(2, '0');
      if (left === 0) {
        clearInterval(timer);
        if (form) form.hidden = true;
        if (expiredNote) expiredNote.hidden = false;
      }
    };
    var timer = setInterval(tick, 1000);
    tick();
  }

  if (!form || typeof Stripe === 'undefined') return;
  var stripe = Stripe(form.dataset.key);
  var card = stripe.elements().create('card');
  card.mount('#card-element');
  var errors = document.getElementById('card-errors');
  var button = form.querySelector('button');

  form.addEventListener('submit', async function (event) {
    event.preventDefault();
    button.disabled = true;
    errors.textContent = '';
    var token = null;
    var error = null;
    var result = await stripe.createPaymentMethod({ type: 'card', card: card });
    if (result && result.paymentMethod) {
      token = result.paymentMethod.id;
    } else if (result && result.error) {
      error = result.error;
    } else {
      // Stand-ins for Stripe.js that only make tokens (localstripe): pay with the token's card.
      var made = await stripe.createToken(card);
      if (made.token) token = made.token.card ? made.token.card.id : made.token.id;
      else error = made.error;
    }
    if (!token) {
      errors.textContent = (error && error.message) || 'The card could not be read.';
      button.disabled = false;
      return;
    }
    document.getElementById('token').value = token;
    form.submit();
  });
})();
