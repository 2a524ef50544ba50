/* The app blocks' figures: "earn N points" from /apps/loyalty/earn.json, and the balance
   block's live line and the ways-to-earn list from /apps/loyalty/panel.json (read once per
   page, whatever the number of blocks). Each fills a box the block reserved, as text only. */
(function () {
  "use strict";
  var panel = null;

  function start() {
    var blocks = document.querySelectorAll("[data-loyalty-earn],[data-loyalty-live],[data-loyalty-ways]");
    if (!blocks.length) return;
    var helper = window.LoyaltyFormat ? Promise.resolve() : new Promise(function (done, fail) {
      var script = document.createElement("script");
      script.src = blocks[0].dataset.formatSrc;
      script.onload = done;
      script.onerror = fail;
      document.head.appendChild(script);
    });
    helper.then(function () { blocks.forEach(fill); });
  }

  function fill(block) {
    var F = window.LoyaltyFormat;
    var words = F.words();
    if (block.hasAttribute("data-loyalty-earn")) return earn(block, F, words);
    panel = panel || F.getJSON(block.dataset.proxy + "/panel.json");
    panel.then(function (data) {
      if (block.hasAttribute("data-loyalty-live")) live(block, data, F, words);
      else ways(block, data, F, words);
    }, function () { block.textContent = words.error || ""; });
  }

  function line(text, name) {
    var node = document.createElement("p");
    node.textContent = text;
    if (name) node.className = name;
    return node;
  }

  function bar(done, total, label) {
    var outer = document.createElement("div");
    var inner = document.createElement("span");
    var share = total > 0 ? Math.max(0, Math.min(100, Math.round(100 * done / total))) : 0;
    outer.className = "loyalty-bar";
    outer.setAttribute("role", "progressbar");
    outer.setAttribute("aria-valuenow", String(share));
    outer.setAttribute("aria-valuemin", "0");
    outer.setAttribute("aria-valuemax", "100");
    outer.setAttribute("aria-label", label);
    inner.style.width = share + "%";
    outer.appendChild(inner);
    return outer;
  }

  function earn(block, F, words) {
    var query = new URLSearchParams({ product_id: block.dataset.productId, price: block.dataset.price });
    if (block.dataset.type) query.append("type", block.dataset.type);
    if (block.dataset.vendor) query.append("vendor", block.dataset.vendor);
    (block.dataset.tags || "").split(",").filter(Boolean).forEach(function (tag) { query.append("tag", tag); });
    (block.dataset.collections || "").split(",").filter(Boolean).forEach(function (id) { query.append("collection", id); });
    F.getJSON(block.dataset.proxy + "/earn.json?" + query).then(function (answer) {
      var points = F.points(answer.points, words);
      block.querySelector(".loyalty-earn__text").textContent = answer.tier_multiplier
        ? F.fill(words.earn_product_tier, { points: points, multiplier: F.number(answer.tier_multiplier) })
        : F.fill(words.earn_product, { points: points });
    }, function () { block.hidden = true; });
  }

  function live(block, data, F, words) {
    var figure = document.querySelector("[data-loyalty-points]");
    if (figure && data.logged_in) figure.textContent = F.points(data.balance, words);
    var parts = [];
    if (data.pending > 0) parts.push(line(F.fill(words.pending, { points: F.points(data.pending, words) })));
    if (data.next_expiry) {
      parts.push(line(F.fill(words.expiry, { points: F.points(data.next_expiry.points, words),
        date: F.date(data.next_expiry.expires_at) })));
    }
    var progress = data.tier_progress;
    if (progress) {
      var spend = progress.basis !== "points_earned";
      var goal = F.fill(words[spend ? "tier_goal_spend" : "tier_goal"], { tier: progress.next_tier.name,
        remaining: spend ? F.money(progress.remaining, data.currency) : F.points(progress.remaining, words) });
      parts.push(line(goal), bar(Number(progress.qualifying), Number(progress.qualifying) + Number(progress.remaining), goal));
    }
    var next = data.nearest_reward;
    if (next) {
      var text = F.fill(words.nearest, { points: F.points(next.points_needed, words), reward: next.name });
      parts.push(line(text), bar(next.points_cost - next.points_needed, next.points_cost, text));
    }
    block.replaceChildren.apply(block, parts);
  }

  function ways(block, data, F, words) {
    var p = data.program;
    var list = document.createElement("ul");
    var items = [F.fill(words.earn_rate, { points: F.points(Number(p.points_per_currency_unit), words),
      amount: F.money(1, data.currency) })];
    if (p.signup_bonus) items.push(F.fill(words.earn_signup, { points: F.points(p.signup_bonus, words) }));
    if (p.birthday_bonus) items.push(F.fill(words.earn_birthday, { points: F.points(p.birthday_bonus, words) }));
    if (p.referral_points) items.push(F.fill(words.earn_referral, { points: F.points(p.referral_points, words) }));
    p.rules.forEach(function (rule) { items.push(rule.name); });
    items.forEach(function (text) { var item = document.createElement("li"); item.textContent = text; list.appendChild(item); });
    var parts = [line(words.ways_heading, "loyalty-ways__subheading"), list];
    if (block.dataset.showRewards === "true" && data.rewards.length) {
      var rewards = document.createElement("ul");
      data.rewards.forEach(function (reward) {
        var item = document.createElement("li");
        item.textContent = reward.name + " · " + F.points(reward.points_cost, words);
        rewards.appendChild(item);
      });
      parts.push(line(words.rewards_heading, "loyalty-ways__subheading"), rewards);
    }
    block.replaceChildren.apply(block, parts);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
