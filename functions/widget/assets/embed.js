/* Rally embed: comments, petition and pledge widgets. No framework, no third-party
   requests. Only the server's sanitised body_html is inserted as HTML; everything
   else goes in as text. */
(function () {
  'use strict';
  var me = document.currentScript || document.querySelector('script[data-api]');
  var API = ((me && me.getAttribute('data-api')) || '').replace(/\/$/, '');
  var lang = ((me && me.getAttribute('data-lang')) || document.documentElement.lang || 'en').slice(0, 2);

  /* Every string the reader sees, one table per language. */
  var T = {
    en: {
      comments: 'Comments', name: 'Name', email: 'Email (optional, never shown)', website: 'Website (optional)',
      comment: 'Comment', post: 'Post comment', reply: 'Reply', edit: 'Edit', del: 'Delete', save: 'Save',
      cancel: 'Cancel', author: 'Author', deleted: 'This comment was deleted.', pending: 'Thank you: your comment is awaiting moderation.',
      closed: 'Comments are not available on posts older than {n} days.', none: 'No comments yet.',
      sign: 'Sign the petition', to: 'To: ', country: 'Country (optional)', why: 'Why you sign (optional)',
      show: 'Show my name publicly', consent: 'I agree that the organiser may keep my name and email to count and deliver this campaign, and to write to me about it. I can erase my signup at any time with the link in my confirmation mail.',
      check: 'Check your mail and press the button in it to confirm.', of: '{a} of {b}', signers: 'Latest signers',
      amount: 'Amount', pledge: 'Pledge', pledged: '{a} pledged so far', succeeded: 'Succeeded: the threshold was reached.',
      failed: 'The deadline passed short of the threshold.', condition: 'I will give {amount} if {n} others will.',
      closedc: 'This campaign is closed.', error: 'Something went wrong; please try again.', ago: ' ago',
      s: 's', m: ' min', h: ' h', d: ' d', now: 'just now', more: 'Show more comments',
      notify: 'Mail me replies (to the email above; the first time, a mail asks you to confirm)',
      updates: "Mail me the organiser's updates about this campaign"
    },
    ko: {
      comments: '댓글', name: '이름', email: '이메일 (선택, 공개되지 않음)', website: '웹사이트 (선택)',
      comment: '댓글', post: '댓글 달기', reply: '답글', edit: '수정', del: '삭제', save: '저장',
      cancel: '취소', author: '글쓴이', deleted: '삭제된 댓글입니다.', pending: '감사합니다. 댓글이 승인을 기다리고 있습니다.',
      closed: '{n}일이 지난 글에는 댓글을 달 수 없습니다.', none: '아직 댓글이 없습니다.',
      sign: '청원에 서명하기', to: '받는 곳: ', country: '국가 (선택)', why: '서명하는 이유 (선택)',
      show: '내 이름 공개', consent: '주최자가 이 캠페인을 집계하고 전달하며 이에 관해 연락하기 위해 제 이름과 이메일을 보관하는 데 동의합니다. 확인 메일의 링크로 언제든지 서명을 지울 수 있습니다.',
      check: '메일을 확인하고 버튼을 눌러 서명을 확인해 주세요.', of: '{b} 중 {a}', signers: '최근 서명자',
      amount: '금액', pledge: '약속하기', pledged: '지금까지 {a} 약속', succeeded: '성공: 목표 인원에 도달했습니다.',
      failed: '목표 인원에 못 미친 채 마감되었습니다.', condition: '{n}명이 함께하면 {amount}를 내겠습니다.',
      closedc: '마감된 캠페인입니다.', error: '문제가 생겼습니다. 다시 시도해 주세요.', ago: ' 전',
      s: '초', m: '분', h: '시간', d: '일', now: '방금', more: '댓글 더 보기',
      notify: '답글을 메일로 받기 (위 이메일로, 처음에는 확인 메일이 갑니다)',
      updates: '이 캠페인에 관한 주최자의 소식을 메일로 받기'
    }
  };
  function t(key, vars) {
    var s = (T[lang] || T.en)[key] || T.en[key];
    for (var k in vars || {}) s = s.replace('{' + k + '}', vars[k]);
    return s;
  }

  /* h('p.cls', {attr: v}, children…): children are nodes or text, never HTML. */
  function h(spec, attrs) {
    var p = spec.split('.'), e = document.createElement(p[0]);
    if (p[1]) e.className = p.slice(1).map(function (c) { return 'rally-' + c; }).join(' ');
    for (var a in attrs || {}) {
      if (a.slice(0, 2) === 'on') e.addEventListener(a.slice(2), attrs[a]);
      else if (attrs[a] != null && attrs[a] !== false) e.setAttribute(a, attrs[a] === true ? '' : attrs[a]);
    }
    for (var i = 2; i < arguments.length; i++) add(e, arguments[i]);
    return e;
  }
  function add(e, kid) {
    if (kid == null || kid === false) return;
    if (Array.isArray(kid)) kid.forEach(function (k) { add(e, k); });
    else e.appendChild(typeof kid === 'object' ? kid : document.createTextNode(String(kid)));
  }

  function call(method, path, body, headers) {
    var init = { method: method, headers: headers || {} };
    if (body) { init.body = JSON.stringify(body); init.headers['Content-Type'] = 'application/json'; }
    return fetch(API + path, init).then(function (r) {
      return r.text().then(function (x) { return { status: r.status, body: x ? JSON.parse(x) : null }; });
    });
  }

  var uid = 0;
  /* A labelled field with a place for its error; returns [wrapper, input]. */
  function field(label, name, opts) {
    opts = opts || {};
    var id = 'rally-f' + (++uid), input;
    if (opts.area) input = h('textarea', { id: id, name: name, rows: 4, required: opts.required, 'aria-describedby': id + 'e' });
    else input = h('input', { id: id, name: name, type: opts.type || 'text', required: opts.required, min: opts.min, value: opts.value, 'aria-describedby': id + 'e', autocomplete: opts.auto });
    var wrap = opts.type === 'checkbox'
      ? h('p.check', null, input, h('label', { for: id }, label), h('small.err', { id: id + 'e' }))
      : h('p', null, h('label', { for: id }, label), input, h('small.err', { id: id + 'e' }));
    return [wrap, input];
  }

  /* A form over `fields`; `send(values)` answers the API's {status, body}. */
  function form(fields, submit, send, done) {
    var status = h('p.status', { role: 'status', 'aria-live': 'polite' });
    var hp = h('input', { name: 'homepage', tabindex: '-1', autocomplete: 'off', 'aria-hidden': 'true' });
    var f = h('form', { novalidate: true }, fields.map(function (x) { return x[0]; }), h('p.hp', null, hp), h('button', { type: 'submit' }, submit), status);
    f.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var values = { homepage: hp.value };
      fields.forEach(function (x) {
        var i = x[1];
        values[i.name] = i.type === 'checkbox' ? i.checked : i.type === 'number' ? (i.value === '' ? null : Number(i.value)) : i.value;
        i.removeAttribute('aria-invalid');
        document.getElementById(i.getAttribute('aria-describedby')).textContent = '';
      });
      status.textContent = '';
      send(values).then(function (r) {
        if (r.status < 300) return done(r, f, status);
        var errs = (r.body && r.body.error) || {};
        var shown = false;
        fields.forEach(function (x) {
          var msgs = (errs.fields || {})[x[1].name];
          if (msgs) {
            x[1].setAttribute('aria-invalid', 'true');
            document.getElementById(x[1].getAttribute('aria-describedby')).textContent = msgs.join(', ');
            shown = true;
          }
        });
        status.textContent = shown ? '' : errs.message || t('error');
      }, function () { status.textContent = t('error'); });
    });
    return f;
  }

  function ago(iso) {
    var s = (Date.now() - Date.parse(iso)) / 1000;
    if (s < 45) return t('now');
    if (s > 30 * 86400) return new Date(iso).toLocaleDateString(lang, { year: 'numeric', month: 'short', day: 'numeric' });
    var units = [[86400, 'd'], [3600, 'h'], [60, 'm']];
    for (var i = 0; i < units.length; i++) if (s >= units[i][0]) return Math.floor(s / units[i][0]) + t(units[i][1]) + t('ago');
    return Math.floor(s) + t('s') + t('ago');
  }
  function when(iso) {
    return h('time', { datetime: iso, title: new Date(iso).toLocaleString(lang) }, ago(iso));
  }

  /* Edit tokens stay in this browser, keyed by comment id, for the 15 minutes they work;
     older ones are dropped whenever the list is read. */
  var WINDOW = 15 * 60 * 1000;
  function store(k, v) { try { localStorage.setItem(k, v); } catch (e) { /* private mode */ } }
  function tokens() {
    var k, live = {};
    try { k = JSON.parse(localStorage.getItem('rally-tokens') || '{}'); } catch (e) { k = {}; }
    for (var id in k) if (k[id] && Date.now() - k[id].at < WINDOW) live[id] = k[id];
    store('rally-tokens', JSON.stringify(live));
    return live;
  }
  function keep(id, token) { var k = tokens(); k[id] = { t: token, at: Date.now() }; store('rally-tokens', JSON.stringify(k)); }
  function tokenFor(id) { var k = tokens()[id]; return k ? k.t : null; }
  /* A random key this browser sends with comments, so that being a known commenter
     belongs to this reader and not to anyone who types their address. */
  function commenterKey() {
    try {
      var k = localStorage.getItem('rally-commenter');
      if (!k) {
        var b = new Uint8Array(18);
        crypto.getRandomValues(b);
        k = btoa(String.fromCharCode.apply(null, b)).replace(/\+/g, '-').replace(/\//g, '_');
        localStorage.setItem('rally-commenter', k);
      }
      return k;
    } catch (e) { return null; }
  }

  function comments(root, slug) {
    var base = '/posts/' + encodeURIComponent(slug);
    function load() {
      return Promise.all([call('GET', base + '/comments?limit=100'), call('GET', base)]).then(function (r) {
        root.textContent = '';
        var thread = r[0].body, post = r[1].body;
        if (r[0].status !== 200) { root.append(h('p', null, t('error'))); return; }
        var list = h('ol.thread'), more = h('p.more');
        if (!thread.items.length) list.append(h('li.none', null, t('none')));
        /* Each page's items, then a button for the next page while there is one. */
        function show(page) {
          page.items.forEach(function (c) { list.append(item(c, thread.open)); });
          more.textContent = '';
          if (page.next_cursor) more.append(h('button', { type: 'button', onclick: function () {
            call('GET', base + '/comments?limit=100&cursor=' + encodeURIComponent(page.next_cursor)).then(function (n) {
              if (n.status === 200) show(n.body); else more.textContent = t('error');
            });
          } }, t('more')));
        }
        show(thread);
        /* Not a named landmark: a page embeds many threads, and its heading says what it is. */
        root.append(h('section.comments', null, h('h3', null, t('comments') + ' (' + thread.count + ')'), list, more,
          thread.open ? newForm(null) : h('p.closed', null, t('closed', { n: post.comments_close_after_days }))));
      });
    }
    function item(c, open) {
      var name = c.website ? h('a', { href: c.website, rel: 'nofollow ugc noopener' }, c.author) : c.author;
      var body = h('div.body');
      if (c.deleted) body.append(h('em', null, t('deleted'))); else body.innerHTML = c.body_html;
      var actions = h('p.actions');
      var li = h('li.c', { id: 'rally-c-' + c.id, style: '--depth:' + Math.min(c.depth, 5) },
        h('p.meta', null, c.number ? h('span.num', null, '#' + c.number + ' ') : null, h('b', null, name),
          c.is_post_author ? h('span.badge', null, t('author')) : null, ' · ', when(c.created_at)), body, actions);
      if (open && !c.deleted) {
        actions.append(h('button', { type: 'button', onclick: function () { li.append(newForm(c.id)); } }, t('reply')));
        var token = tokenFor(c.id);
        if (token) {
          actions.append(h('button', { type: 'button', onclick: function () { editForm(li, c, token); } }, t('edit')),
            h('button', { type: 'button', onclick: function () {
              call('DELETE', base + '/comments/' + c.id, null, { 'X-Edit-Token': token }).then(load);
            } }, t('del')));
        }
      }
      return li;
    }
    function newForm(parent) {
      var fields = [field(t('name'), 'author', { required: true, auto: 'name' }), field(t('email'), 'email', { type: 'email', auto: 'email' }),
        field(t('notify'), 'notify_replies', { type: 'checkbox' }),
        field(t('website'), 'website', { type: 'url', auto: 'url' }), field(t('comment'), 'body', { area: true, required: true })];
      return form(fields, parent ? t('reply') : t('post'), function (v) {
        v.parent_id = parent;
        var key = commenterKey();
        if (key) v.commenter_key = key;
        return call('POST', base + '/comments', v);
      }, function (r, f, status) {
        keep(r.body.comment.id, r.body.edit_token);
        if (r.status === 202) { f.reset(); status.textContent = t('pending'); } else load();
      });
    }
    function editForm(li, c, token) {
      var body = field(t('comment'), 'body', { area: true, required: true });
      body[1].value = li.querySelector('.rally-body').textContent.trim();
      li.append(form([body], t('save'), function (v) {
        return call('PUT', base + '/comments/' + c.id, { body: v.body }, { 'X-Edit-Token': token });
      }, function (r, f, status) {
        /* An edit that the blogger's rules hold leaves the thread until approved. */
        if (r.status === 202) { f.reset(); status.textContent = t('pending'); } else load();
      }));
    }
    return load();
  }

  /* Named by the campaign's count line, which says the same in words. */
  function progress(value, max) {
    return h('div.bar', { role: 'progressbar', 'aria-label': t('of', { a: value.toLocaleString(lang), b: max.toLocaleString(lang) }),
      'aria-valuemin': 0, 'aria-valuemax': max, 'aria-valuenow': value },
      h('span', { style: 'width:' + Math.min(100, (100 * value) / Math.max(1, max)) + '%' }));
  }

  function signForm(path, fields, label) {
    fields = fields.concat([field(t('show'), 'public', { type: 'checkbox' }), field(t('updates'), 'updates', { type: 'checkbox' }),
      field(t('consent'), 'consent', { type: 'checkbox', required: true })]);
    return form(fields, label, function (v) { return call('POST', path, v); }, function (r, f, status) {
      f.reset();
      status.textContent = t('check');
    });
  }

  function petition(root, slug) {
    var base = '/petitions/' + encodeURIComponent(slug);
    return Promise.all([call('GET', base), call('GET', base + '/signatures?limit=5')]).then(function (r) {
      var p = r[0].body;
      root.textContent = '';
      if (r[0].status !== 200) { root.append(h('p', null, t('error'))); return; }
      var signers = h('ul.signers');
      r[1].body.items.forEach(function (s) { signers.append(h('li', null, s.name + (s.country ? ' (' + s.country + ')' : ''))); });
      root.append(h('section.petition', { 'aria-label': p.title }, h('h3', null, p.title), h('p.target', null, t('to') + p.target),
        progress(p.signature_count, p.goal), h('p.count', null, t('of', { a: p.signature_count.toLocaleString(lang), b: p.goal.toLocaleString(lang) })),
        p.open ? signForm(base + '/signatures', [field(t('name'), 'name', { required: true, auto: 'name' }),
          field(t('email').replace(/ \(.*\)/, ''), 'email', { type: 'email', required: true, auto: 'email' }),
          field(t('country'), 'country', { auto: 'country-name' }), field(t('why'), 'comment', { area: true })], t('sign')) : h('p.closed', null, t('closedc')),
        r[1].body.items.length ? [h('h4', null, t('signers')), signers] : null));
    });
  }

  function pledge(root, slug) {
    var base = '/pledges/' + encodeURIComponent(slug);
    return call('GET', base).then(function (r) {
      var p = r.body;
      root.textContent = '';
      if (r.status !== 200) { root.append(h('p', null, t('error'))); return; }
      var money = function (n) { return new Intl.NumberFormat(lang, { style: 'currency', currency: p.currency, maximumFractionDigits: 0 }).format(n); };
      var state = p.status === 'succeeded' ? t('succeeded') : p.status === 'failed' ? t('failed') : null;
      root.append(h('section.pledge', { 'aria-label': p.title }, h('h3', null, p.title),
        h('p.condition', null, t('condition', { amount: money(p.suggested_amount || 1), n: p.threshold.toLocaleString(lang) })),
        progress(p.signup_count, p.threshold), h('p.count', null, t('of', { a: p.signup_count.toLocaleString(lang), b: p.threshold.toLocaleString(lang) }) + ' · ' + t('pledged', { a: money(p.amount_total) })),
        state ? h('p.state', { role: 'status' }, state) : null,
        p.open ? signForm(base + '/signups', [field(t('name'), 'name', { required: true, auto: 'name' }),
          field(t('email').replace(/ \(.*\)/, ''), 'email', { type: 'email', required: true, auto: 'email' }),
          field(t('amount') + ' (' + p.currency + ')', 'amount', { type: 'number', min: 1, value: p.suggested_amount })], t('pledge')) : null));
    });
  }

  var css = h('link', { rel: 'stylesheet', href: API + '/embed.css' });
  document.head.appendChild(css);
  [['comments', comments], ['petition', petition], ['pledge', pledge]].forEach(function (w) {
    document.querySelectorAll('[data-' + w[0] + ']').forEach(function (el) {
      el.classList.add('rally');
      w[1](el, el.getAttribute('data-' + w[0])).catch(function () { el.textContent = t('error'); });
    });
  });
})();
