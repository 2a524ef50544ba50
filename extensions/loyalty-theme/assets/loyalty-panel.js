/* The launcher's panel, loaded on first open: reads /apps/loyalty/panel.json (the app proxy)
   and lays it out; redeems in place (POST /apps/loyalty/redemptions.json with the panel's
   CSRF token), copies codes and the referral link, saves a birthday from two selects.
   Every value is set as text (textContent, value), never as HTML. Words come from locales/
   through LoyaltyFormat.words(); sections follow the merchant's choices (data-show). */
(function () {
  "use strict";
  var F = window.LoyaltyFormat;
  var state = {};

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") node.textContent = attrs[name];
      else if (name === "on") Object.keys(attrs.on).forEach(function (type) { node.addEventListener(type, attrs.on[type]); });
      else node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function W(key, values) { return F.fill(state.words[key], values || {}); }
  function pts(n) { return F.points(n, state.words); }
  function shows(section) { return state.show.indexOf(section) >= 0; }

  function open(root, panel, close) {
    state = { root: root, panel: panel, close: close, proxy: root.dataset.proxy, words: F.words(),
      show: (root.dataset.show || "").split(" ") };
    if (!panel.firstChild) {
      state.heading = el("h2", { id: "loyalty-panel-title", class: "loyalty-panel__title", tabindex: "-1", text: W("title") });
      state.status = el("p", { class: "loyalty-panel__status", role: "status", tabindex: "-1" });
      state.body = el("div", { class: "loyalty-panel__body" });
      panel.setAttribute("aria-labelledby", "loyalty-panel-title");
      panel.appendChild(el("div", { class: "loyalty-panel__header" }, [state.heading,
        el("button", { type: "button", class: "loyalty-panel__close", "aria-label": W("close"), text: "×", on: { click: close } })]));
      panel.appendChild(state.status);
      panel.appendChild(state.body);
    } else {
      state.heading = panel.querySelector(".loyalty-panel__title");
      state.status = panel.querySelector(".loyalty-panel__status");
      state.body = panel.querySelector(".loyalty-panel__body");
    }
    state.heading.focus();
    load();
  }

  function load() {
    state.body.replaceChildren(el("p", { class: "loyalty-panel__loading", text: W("loading") }));
    F.getJSON(state.proxy + "/panel.json").then(render, function () {
      state.body.replaceChildren(el("p", { text: W("error") }));
    });
  }

  function notify(text) { state.status.textContent = text; state.status.focus(); }

  function render(data) {
    state.data = data;
    var parts = data.logged_in ? [balance(data), shows("tier") && tier(data), nearest(data),
      shows("rewards") && rewards(data), shows("codes") && codes(data), shows("referral") && referral(data),
      shows("birthday") && birthday(data), shows("history") && history(data)]
      : [signedOut(data), ways(data), shows("rewards") && rewards(data)];
    parts.push(el("p", { class: "loyalty-panel__more" }, [el("a", { href: data.page_url, text: W("full_page") })]));
    state.body.replaceChildren.apply(state.body, parts.filter(Boolean));
  }

  function section(title, children) {
    return el("section", { class: "loyalty-panel__section" }, [el("h3", { text: title })].concat(children));
  }

  function bar(done, total, label) {
    var share = total > 0 ? Math.max(0, Math.min(100, Math.round(100 * done / total))) : 0;
    return el("div", { class: "loyalty-bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100",
      "aria-valuenow": String(share), "aria-label": label }, [el("span", { style: "width:" + share + "%" })]);
  }

  function balance(data) {
    return el("div", { class: "loyalty-panel__balance" }, [
      el("p", { class: "loyalty-panel__label", text: W("balance") }),
      el("p", { class: "loyalty-panel__figure", text: pts(data.balance) }),
      data.pending > 0 && el("p", { class: "loyalty-panel__pending", text: W("pending", { points: pts(data.pending) }) }),
      data.next_expiry && el("p", { class: "loyalty-panel__expiry", text: W("expiry", {
        points: pts(data.next_expiry.points), date: F.date(data.next_expiry.expires_at) }) })]);
  }

  function tier(data) {
    var progress = data.tier_progress;
    if (!data.tier && !progress) return null;
    var parts = [data.tier && el("p", { class: "loyalty-panel__tier", text: W("tier", { tier: data.tier.name }) })];
    if (progress) {
      var spend = progress.basis !== "points_earned";
      var remaining = spend ? F.money(progress.remaining, data.currency) : pts(progress.remaining);
      var goal = W(spend ? "tier_goal_spend" : "tier_goal", { remaining: remaining, tier: progress.next_tier.name });
      parts.push(el("p", { text: goal }),
        bar(Number(progress.qualifying), Number(progress.qualifying) + Number(progress.remaining), goal));
    }
    return el("div", { class: "loyalty-panel__tiers" }, parts);
  }

  function nearest(data) {
    var next = data.nearest_reward;
    if (!next) return null;
    var text = W("nearest", { points: pts(next.points_needed), reward: next.name });
    return el("div", { class: "loyalty-panel__nearest" }, [el("p", { text: text }),
      bar(next.points_cost - next.points_needed, next.points_cost, text)]);
  }

  function describe(reward, currency) {
    var what = reward.kind === "amount_off" ? W("amount_off", { amount: F.money(reward.value, currency) })
      : reward.kind === "store_credit" ? W("store_credit", { amount: F.money(reward.value, currency) })
      : reward.kind === "free_product" ? W("free_product")
      : reward.kind === "percentage_off" ? W("percentage_off", { percent: F.number(reward.value) }) : W("free_shipping");
    return reward.min_subtotal ? what + " " + W("min_subtotal", { amount: F.money(reward.min_subtotal, currency) }) : what;
  }

  function rewards(data) {
    var now = data.redeemable || [];
    var items = data.rewards.map(function (reward) {
      var action = data.logged_in && el("button", { type: "button", class: "loyalty-panel__redeem", text: W("redeem"),
        on: { click: function (event) { redeem(reward, event.currentTarget); } } });
      if (action && now.indexOf(reward.id) < 0) action.disabled = true;
      return el("li", { class: "loyalty-panel__reward" }, [
        el("span", { class: "loyalty-panel__reward-name", text: reward.name }),
        describe(reward, data.currency).toLowerCase() !== reward.name.toLowerCase() &&
          el("span", { class: "loyalty-panel__reward-what", text: describe(reward, data.currency) }),
        el("span", { class: "loyalty-panel__cost", text: pts(reward.points_cost) }), action]);
    });
    var title = data.logged_in && now.length ? W("redeem_heading") : W("rewards_heading");
    var empty = data.logged_in && !now.length && el("p", { text: W("nothing_yet") });
    return section(title, [empty, el("ul", { class: "loyalty-panel__list" }, items)]);
  }

  function redeem(reward, button) {
    button.disabled = true;
    button.textContent = W("redeeming");
    fetch(state.proxy + "/redemptions.json", { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-Loyalty-Csrf": state.data.csrf },
      body: JSON.stringify({ reward_id: reward.id }) })
      .then(function (answer) { return answer.json(); })
      .then(function (body) {
        if (body.panel) render(body.panel); else load();  // refused: the panel as it is now
        notify(state.words["notice_" + body.notice] || W("error"));
      }, function () { notify(W("error")); button.disabled = false; button.textContent = W("redeem"); });
  }

  function copyButton(label, value) {
    return el("button", { type: "button", class: "loyalty-panel__copy", text: label, on: { click: function (event) {
      var target = event.currentTarget;
      navigator.clipboard.writeText(value).then(function () { target.textContent = W("copied"); });
    } } });
  }

  function codes(data) {
    if (!data.codes.length) return null;
    return section(W("codes_heading"), [el("ul", { class: "loyalty-panel__list" }, data.codes.map(function (code) {
      return el("li", { class: "loyalty-panel__code" }, [
        code.store_credit ? el("span", { text: W("store_credit", {
          amount: F.money(code.store_credit.amount, code.store_credit.currency) }) }) : el("code", { text: code.code }),
        el("span", { text: (code.reward || W("reward_gone")) + " · " + W("status_" + code.status) }),
        code.expires_at && el("span", { text: W("expires", { date: F.date(code.expires_at, data.timezone) }) }),
        code.apply_url && copyButton(W("copy"), code.code),
        code.apply_url && el("a", { href: code.apply_url, text: W("apply") })]);
    }))]);
  }

  function referral(data) {
    if (!data.referral_link) return null;
    return section(W("referral_heading"), [
      el("p", { text: W("referral_text", { points: pts(data.program.referral_points) }) }),
      el("input", { readonly: "", value: data.referral_link, "aria-label": W("referral_label"), class: "loyalty-panel__link" }),
      copyButton(W("copy_link"), data.referral_link)]);
  }

  function options(label, count, format) {
    var list = [el("option", { value: "", text: label })];
    for (var n = 1; n <= count; n += 1) list.push(el("option", { value: (n < 10 ? "0" : "") + n, text: format(n) }));
    return list;
  }

  function birthday(data) {
    if (!data.program.birthday_bonus) return null;
    if (data.birthday) {
      var day = F.date("2000-" + data.birthday).replace(/,?\s*2000|2000\D?\s*/, "");
      return section(W("birthday_heading"), [el("p", { text: W("birthday_saved", { date: day }) })]);
    }
    var monthName = new Intl.DateTimeFormat(document.documentElement.lang || "en", { month: "long", timeZone: "UTC" });
    var month = el("select", { name: "month", required: "", "aria-label": W("birthday_month") },
      options(W("birthday_month"), 12, function (n) { return monthName.format(Date.UTC(2000, n - 1, 1)); }));
    var dayOf = el("select", { name: "day", required: "", "aria-label": W("birthday_day") },
      options(W("birthday_day"), 31, String));
    var form = el("form", { class: "loyalty-panel__birthday", on: { submit: function (event) {
      event.preventDefault();
      var body = new URLSearchParams({ birthday: month.value + "-" + dayOf.value, csrf: data.csrf });
      // Saved: the app sends the browser on to its page (303, followed here); refused: a 4xx.
      fetch(state.proxy + "/birthday", { method: "POST", body: body, credentials: "same-origin" })
        .then(function (answer) {
          if (answer.ok) load(); else notify(W("birthday_error"));
        }, function () { notify(W("birthday_error")); });
    } } }, [month, dayOf, el("button", { type: "submit", text: W("birthday_save") })]);
    return section(W("birthday_heading"), [el("p", { text: W("birthday_text", { points: pts(data.program.birthday_bonus) }) }), form]);
  }

  function history(data) {
    var rows = data.entries.map(function (entry) {
      return el("li", { class: "loyalty-panel__entry" }, [
        el("span", { text: entry.reason }),
        el("span", { class: entry.delta < 0 ? "loyalty-minus" : "loyalty-plus",
          text: (entry.delta > 0 ? "+" : entry.delta < 0 ? "−" : "") + F.number(Math.abs(entry.delta)) }),
        el("time", { datetime: entry.created_at, text: F.date(entry.created_at, data.timezone) })]);
    });
    return section(W("history_heading"), [rows.length ? el("ul", { class: "loyalty-panel__list" }, rows)
      : el("p", { text: W("history_empty") })]);
  }

  function ways(data) {
    var p = data.program;
    var items = [W("earn_rate", { points: pts(Number(p.points_per_currency_unit)), amount: F.money(1, data.currency) })];
    if (p.signup_bonus) items.push(W("earn_signup", { points: pts(p.signup_bonus) }));
    if (p.birthday_bonus) items.push(W("earn_birthday", { points: pts(p.birthday_bonus) }));
    if (p.referral_points) items.push(W("earn_referral", { points: pts(p.referral_points) }));
    p.rules.forEach(function (rule) { items.push(rule.name); });
    return section(W("ways_heading"), [el("ul", { class: "loyalty-panel__list" },
      items.map(function (text) { return el("li", { text: text }); }))]);
  }

  function signedOut(data) {
    return el("p", { class: "loyalty-panel__signed-out" }, [document.createTextNode(W("signed_out") + " "),
      el("a", { href: data.login_url, text: W("sign_in") })]);
  }

  window.LoyaltyPanel = { open: open };
})();
