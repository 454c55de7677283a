/* Rally console: the organiser's pages, served by the stack at /admin. No framework and
   no third-party requests; it uses only the admin API of openapi.yaml, so everything it
   does can be scripted. The admin token lives in this tab's sessionStorage, never in a
   URL, a cookie or localStorage. Only the server's sanitised body_html is inserted as
   HTML; everything else goes in as text. */
(function () {
  'use strict';
  var KEY = 'rally-admin-token';
  var main = document.getElementById('main');
  var nav = document.getElementById('nav');
  var statusBox = document.getElementById('status');
  var poll = null;

  /* h('p.cls', {attr: v}, children…): children are nodes or text, never HTML. */
  function h(spec, attrs) {
    var parts = spec.split('.'), e = document.createElement(parts[0]);
    if (parts.length > 1) e.className = parts.slice(1).join(' ');
    for (var a in attrs || {}) {
      var v = attrs[a];
      if (a.slice(0, 2) === 'on') e.addEventListener(a.slice(2), v);
      else if (a === 'value') e.value = v == null ? '' : v;
      else if (a === 'checked' || a === 'disabled' || a === 'hidden' || a === 'required') e[a] = !!v;
      else if (v != null && v !== false) e.setAttribute(a, v === true ? '' : v);
    }
    for (var i = 2; i < arguments.length; i++) add(e, arguments[i]);
    return e;
  }
  function add(e, kid) {
    if (kid == null || kid === false) return;
    if (Array.isArray(kid)) { kid.forEach(function (k) { add(e, k); }); return; }
    e.appendChild(typeof kid === 'object' ? kid : document.createTextNode(String(kid)));
  }
  function svg(tag, attrs) {
    var e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (var a in attrs || {}) e.setAttribute(a, attrs[a]);
    for (var i = 2; i < arguments.length; i++) {
      var kid = arguments[i];
      if (kid != null) e.appendChild(typeof kid === 'object' ? kid : document.createTextNode(String(kid)));
    }
    return e;
  }
  function say(text) { statusBox.textContent = ''; setTimeout(function () { statusBox.textContent = text; }, 30); }
  function token() { return sessionStorage.getItem(KEY); }
  function enc(s) { return encodeURIComponent(s); }
  function day(iso) { return iso ? iso.slice(0, 10) : ''; }
  function when(iso) { return iso ? iso.slice(0, 16).replace('T', ' ') + ' UTC' : ''; }

  /* One call to the API with the token; answers {status, body, headers}. A 401 signs out. */
  function api(method, path, body, raw) {
    var init = { method: method, headers: { Authorization: 'Bearer ' + token() }, cache: 'no-store' };
    if (body !== undefined) { init.headers['Content-Type'] = 'application/json'; init.body = JSON.stringify(body); }
    return fetch(path, init).then(function (r) {
      var read = raw ? r.text() : (r.status === 204 ? Promise.resolve(null) : r.json().catch(function () { return null; }));
      return read.then(function (b) {
        if (r.status === 401 && token()) { signOut('Your session ended: the token was refused. Sign in again.'); }
        return { status: r.status, body: b, headers: r.headers };
      });
    });
  }
  function ok(r) { return r.status >= 200 && r.status < 300; }
  function problem(r) {
    var e = r.body && r.body.error;
    return e ? e.message : 'The request failed (' + r.status + ').';
  }

  /* ---- Signing in ---- */
  function signIn(message) {
    stopPolling();
    nav.hidden = true;
    var input = h('input', { id: 'token', type: 'password', autocomplete: 'current-password', required: true, 'aria-describedby': 'token-help token-error' });
    var error = h('p.error', { id: 'token-error', role: 'alert' }, message || '');
    var form = h('form.card', { onsubmit: function (ev) {
      ev.preventDefault();
      var t = input.value.trim();
      if (!t) { error.textContent = 'Type the admin token.'; input.focus(); return; }
      fetch('/admin/comments?limit=1', { headers: { Authorization: 'Bearer ' + t }, cache: 'no-store' }).then(function (r) {
        if (r.status === 401) { error.textContent = 'That token is not this deployment\u2019s admin token.'; input.select(); input.focus(); return; }
        if (!r.ok) { error.textContent = 'The stack answered ' + r.status + '; try again.'; return; }
        sessionStorage.setItem(KEY, t);
        if (!location.hash || location.hash === '#/signin') location.hash = '#/queue'; else route();
      }, function () { error.textContent = 'The stack could not be reached.'; });
    } },
      h('h1', null, 'Sign in'),
      h('label', { for: 'token' }, 'Admin token'),
      input,
      h('p.help', { id: 'token-help' }, 'The token printed by make dev, or the one make deploy saved in .deploy/admin-token. It is kept in this tab only, until you sign out or close it.'),
      error,
      h('button.primary', { type: 'submit' }, 'Sign in'));
    show('Sign in', form);
    input.focus();
  }
  function signOut(message) {
    sessionStorage.removeItem(KEY);
    history.replaceState(null, '', location.pathname);
    signIn(message || 'Signed out.');
  }

  function renderNav(current) {
    nav.hidden = false;
    nav.textContent = '';
    var links = [['#/queue', 'Moderation'], ['#/posts', 'Posts'], ['#/petitions', 'Petitions'], ['#/pledges', 'Pledges']];
    var ul = h('ul');
    links.forEach(function (l) {
      ul.appendChild(h('li', null, h('a', { href: l[0], 'aria-current': current === l[0] ? 'page' : null }, l[1])));
    });
    ul.appendChild(h('li', null, h('button.link', { type: 'button', onclick: function () { signOut(); } }, 'Sign out')));
    nav.appendChild(ul);
  }

  function show(title, content) {
    document.title = title + ' \u2014 Rally console';
    main.textContent = '';
    add(main, content);
  }
  function stopPolling() { if (poll) { clearInterval(poll); poll = null; } }

  /* ---- Routing ---- */
  function route() {
    stopPolling();
    if (!token()) { signIn(); return; }
    var parts = (location.hash || '#/queue').slice(2).split('/').map(decodeURIComponent);
    var page = parts[0] || 'queue';
    renderNav('#/' + page);
    if (page === 'queue') return queue(parts[1] === 'spam' ? 'spam' : 'pending');
    if (page === 'posts' && parts[1] === 'new') return postForm(null);
    if (page === 'posts' && parts[1]) return postForm(parts[1]);
    if (page === 'posts') return posts();
    if ((page === 'petitions' || page === 'pledges') && parts[1] === 'new') return campaignForm(page, null);
    if (page === 'petitions' || page === 'pledges') return parts[1] ? campaign(page, parts[1]) : campaigns(page);
    show('Not found', h('p', null, 'There is no such page. ', h('a', { href: '#/queue' }, 'Go to moderation.')));
  }
  function focusMain() { main.focus({ preventScroll: true }); }

  /* ---- Moderation ---- */
  var REASONS = { links: 'too many links', first_time: 'first-time commenter', edit: 'edited into too many links' };

  function queue(status) {
    var list = h('ul.queue', { id: 'queue', 'aria-label': status === 'spam' ? 'Spam comments' : 'Held comments' });
    var titles = {};
    var items = [];
    var counter = h('p.count', { id: 'queue-count' });
    var heading = status === 'spam' ? 'Spam' : 'Held for moderation';
    var bulk = h('div.toolbar', { role: 'group', 'aria-label': 'Selected comments' },
      h('button', { type: 'button', onclick: function () { act('approve', selected()); } }, 'Approve selected'),
      status === 'spam' ? null : h('button', { type: 'button', onclick: function () { act('spam', selected()); } }, 'Spam selected'),
      h('button.danger', { type: 'button', onclick: function () { act('delete', selected()); } }, 'Delete selected'));
    show(heading, [
      h('h1', null, 'Moderation'),
      h('p.tabs', null,
        h('a', { href: '#/queue', 'aria-current': status === 'pending' ? 'page' : null }, 'Held'), ' \u00b7 ',
        h('a', { href: '#/queue/spam', 'aria-current': status === 'spam' ? 'page' : null }, 'Spam')),
      h('h2', null, heading), counter,
      h('p.help', { id: 'keys-help' }, 'Keys: j and k (or the arrow keys) move between comments, x selects, a approves, s marks as spam, d deletes. With comments selected, a key acts on all of them.'),
      bulk, list]);
    focusMain();

    function selected() { return items.filter(function (c) { return c.box && c.box.checked; }); }
    function render(keepId) {
      list.textContent = '';
      counter.textContent = items.length === 0 ? 'Nothing is waiting.' : items.length + (items.length === 1 ? ' comment' : ' comments');
      items.forEach(function (c) {
        c.box = h('input', { type: 'checkbox', 'aria-label': 'Select the comment by ' + c.author });
        var body = h('div.body');
        body.innerHTML = c.body_html; /* sanitised by the server, as readers see it */
        c.node = h('li.item', { tabindex: '0', 'data-id': c.id, 'aria-describedby': 'keys-help',
          'aria-label': 'Comment by ' + c.author + ' on ' + (titles[c.post] || c.post) },
          h('div.head', null, c.box, ' ',
            h('strong', null, c.author), ' on ',
            h('a', { href: '#/posts/' + enc(c.post) }, titles[c.post] || c.post), ' \u00b7 ',
            h('time', { datetime: c.created_at }, when(c.created_at)),
            c.held_reason ? h('span.badge', null, 'Held: ' + (REASONS[c.held_reason] || c.held_reason)) : null),
          body,
          h('div.actions', null,
            h('button', { type: 'button', onclick: function () { act('approve', [c]); } }, 'Approve'),
            status === 'spam' ? null : h('button', { type: 'button', onclick: function () { act('spam', [c]); } }, 'Spam'),
            h('button.danger', { type: 'button', onclick: function () { act('delete', [c]); } }, 'Delete')));
        list.appendChild(c.node);
      });
      if (keepId) {
        var again = items.filter(function (c) { return c.id === keepId; })[0];
        if (again) again.node.focus();
      }
    }
    function load() {
      var focused = document.activeElement && document.activeElement.closest && document.activeElement.closest('li.item');
      var keep = focused ? focused.getAttribute('data-id') : null;
      var chosen = {};
      items.forEach(function (c) { if (c.box && c.box.checked) chosen[c.id] = true; });
      return api('GET', '/admin/comments?status=' + status + '&order=newest&limit=200').then(function (r) {
        if (!ok(r)) { say(problem(r)); return; }
        var fresh = r.body.items.map(function (c) { return c.id; }).join();
        if (fresh === items.map(function (c) { return c.id; }).join() && items.length) return;
        items = r.body.items;
        render(keep);
        items.forEach(function (c) { if (chosen[c.id]) c.box.checked = true; });
      });
    }
    function act(action, targets) {
      if (!targets.length) { say('Select comments first (x), or act on one with its buttons.'); return; }
      var next = null;
      var last = targets[targets.length - 1];
      var at = items.indexOf(last);
      for (var i = at + 1; i < items.length && !next; i++) if (targets.indexOf(items[i]) < 0) next = items[i];
      for (var j = at - 1; j >= 0 && !next; j--) if (targets.indexOf(items[j]) < 0) next = items[j];
      Promise.all(targets.map(function (c) {
        return api('POST', '/admin/comments/' + enc(c.id) + '/' + action).then(function (r) { return { c: c, r: r }; });
      })).then(function (done) {
        var failed = done.filter(function (d) { return !ok(d.r) && d.r.status !== 404; });
        items = items.filter(function (c) { return !done.some(function (d) { return d.c === c && (ok(d.r) || d.r.status === 404); }); });
        render(next && items.indexOf(next) >= 0 ? next.id : null);
        if (!next || items.indexOf(next) < 0) (items[0] ? items[0].node : main).focus();
        var n = done.length - failed.length;
        var verb = { approve: 'Approved', spam: 'Marked as spam', delete: 'Deleted' }[action];
        say(failed.length ? verb + ' ' + n + '; ' + failed.length + ' failed: ' + problem(failed[0].r) : verb + ' ' + n + (n === 1 ? ' comment.' : ' comments.'));
      });
    }
    list.addEventListener('keydown', function (ev) {
      var li = ev.target.closest('li.item');
      var native = /^(BUTTON|INPUT|A)$/.test(ev.target.tagName) && (ev.key === ' ' || ev.key === 'Enter');
      if (!li || ev.altKey || ev.ctrlKey || ev.metaKey || native) return;
      var c = items.filter(function (x) { return x.node === li; })[0];
      if (!c) return;
      var i = items.indexOf(c);
      var key = ev.key;
      if (key === 'j' || key === 'ArrowDown') { if (items[i + 1]) items[i + 1].node.focus(); }
      else if (key === 'k' || key === 'ArrowUp') { if (items[i - 1]) items[i - 1].node.focus(); }
      else if (key === 'x' || key === ' ') { c.box.checked = !c.box.checked; say(c.box.checked ? 'Selected.' : 'Not selected.'); }
      else if (key === 'a' || key === 's' || key === 'd') {
        if (key === 's' && status === 'spam') return;
        var chosen = selected();
        act({ a: 'approve', s: 'spam', d: 'delete' }[key], chosen.length ? chosen : [c]);
      } else return;
      ev.preventDefault();
    });
    api('GET', '/posts?limit=200').then(function (r) {
      if (ok(r)) r.body.items.forEach(function (p) { titles[p.slug] = p.title; });
      return load();
    });
    poll = setInterval(load, 5000);
  }

  /* ---- Posts ---- */
  function snippet(post) {
    var o = location.origin;
    return ['<script async src="' + o + '/embed.js" data-api="' + o + '"></script>',
      '<div data-comments="' + post.slug + '"></div>',
      post.petition ? '<div data-petition="' + post.petition + '"></div>' : null,
      post.pledge ? '<div data-pledge="' + post.pledge + '"></div>' : null].filter(Boolean).join('\n');
  }
  function copyBox(id, text, label) {
    var code = h('pre.snippet', { id: id, tabindex: '0', 'aria-label': label }, text);
    return h('div.copy', null, code, h('button', { type: 'button', onclick: function (ev) {
      var b = ev.target;
      var done = function () { b.textContent = 'Copied'; say('Copied the embed snippet.'); setTimeout(function () { b.textContent = 'Copy'; }, 2000); };
      if (navigator.clipboard) navigator.clipboard.writeText(text).then(done, function () { selectText(code); });
      else selectText(code);
    } }, 'Copy'));
  }
  function selectText(node) {
    var range = document.createRange(); range.selectNodeContents(node);
    var sel = getSelection(); sel.removeAllRanges(); sel.addRange(range);
    say('Selected: press Ctrl+C to copy.');
  }

  function posts() {
    show('Posts', [h('h1', null, 'Posts'), h('p', null, h('a.button.primary', { href: '#/posts/new' }, 'New post')), h('p', null, 'Loading\u2026')]);
    focusMain();
    api('GET', '/posts?limit=200').then(function (r) {
      if (!ok(r)) { say(problem(r)); return; }
      var rows = r.body.items.map(function (p) {
        return h('tr', null,
          h('th', { scope: 'row' }, h('a', { href: '#/posts/' + enc(p.slug) }, p.title)),
          h('td', null, day(p.published_at)),
          h('td', null, String(p.comment_count)),
          h('td', null, p.comments_open ? 'open' : 'closed'),
          h('td', null, [p.petition, p.pledge].filter(Boolean).join(', ') || '\u2014'),
          h('td', null, h('details', null, h('summary', null, 'Embed snippet'), copyBox('snippet-' + p.slug, snippet(p), 'Embed snippet for ' + p.title))));
      });
      main.lastChild.replaceWith(r.body.items.length ? h('div.scroll', null, h('table', null,
        h('caption', null, 'Posts, newest first'),
        h('thead', null, h('tr', null, ['Title', 'Published', 'Comments', 'Comments are', 'Embeds', 'Embed'].map(function (t) { return h('th', { scope: 'col' }, t); }))),
        h('tbody', null, rows))) : h('p', null, 'No posts yet.'));
    });
  }

  /* A labelled field; its errors from a 422 land in the <p> after it. */
  function field(name, label, input, help, pre) {
    var base = (pre || 'f') + '-' + name;
    input.id = base; input.name = name;
    var err = h('p.error', { id: base + '-error' });
    input.setAttribute('aria-describedby', (help ? base + '-help ' : '') + base + '-error');
    return h('div.field', null, h('label', { for: base }, label), input, help ? h('p.help', { id: base + '-help' }, help) : null, err);
  }
  function showErrors(form, r) {
    form.querySelectorAll('p.error').forEach(function (p) { p.textContent = ''; });
    form.querySelectorAll('[aria-invalid]').forEach(function (i) { i.removeAttribute('aria-invalid'); });
    var fields = (r.body && r.body.error && r.body.error.fields) || {};
    var first = null;
    Object.keys(fields).forEach(function (name) {
      var base = '#' + (form.getAttribute('data-prefix') || 'f') + '-' + name;
      var p = form.querySelector(base + '-error'), input = form.querySelector(base);
      if (p) p.textContent = fields[name].join('; ');
      if (input) { input.setAttribute('aria-invalid', 'true'); first = first || input; }
    });
    var summary = form.querySelector('.summary');
    summary.textContent = problem(r);
    (first || summary).focus();
  }
  function toLocalInput(iso) { return iso ? iso.slice(0, 16) : ''; }
  function fromLocalInput(v) { return v ? v + ':00Z' : null; }
  function options(kind, chosen) {
    return api('GET', '/admin/' + kind + '?limit=200').then(function (r) {
      var list = ok(r) ? r.body.items : [];
      return [h('option', { value: '' }, 'None')].concat(list.map(function (c) {
        return h('option', { value: c.slug, selected: c.slug === chosen }, c.title + ' (' + c.slug + ')');
      }));
    });
  }

  function postForm(slug) {
    show(slug ? 'Edit post' : 'New post', h('p', null, 'Loading\u2026'));
    var load = slug ? api('GET', '/posts/' + enc(slug)) : Promise.resolve({ status: 200, body: null });
    load.then(function (r) {
      if (!ok(r)) { show('Not found', h('p', null, problem(r))); return; }
      var p = r.body || { title: '', author: '', tags: [], body: '', published_at: new Date().toISOString(), comments_close_after_days: 60, petition: null, pledge: null };
      return Promise.all([options('petitions', p.petition), options('pledges', p.pledge)]).then(function (opts) {
        var f = {
          slug: h('input', { value: slug || '', required: true, pattern: '[a-z0-9-]{1,100}', autocomplete: 'off' }),
          title: h('input', { value: p.title, required: true, maxlength: '200' }),
          author: h('input', { value: p.author, required: true, maxlength: '80' }),
          tags: h('input', { value: p.tags.join(', ') }),
          body: h('textarea', { rows: '14', required: true }, p.body),
          published_at: h('input', { type: 'datetime-local', value: toLocalInput(p.published_at) }),
          comments_close_after_days: h('input', { type: 'number', min: '0', max: '36500', value: p.comments_close_after_days == null ? '' : p.comments_close_after_days }),
          petition: h('select', null, opts[0]),
          pledge: h('select', null, opts[1])
        };
        var preview = h('div.preview.body', { id: 'preview', role: 'region', 'aria-live': 'polite', 'aria-labelledby': 'preview-h' });
        var form = h('form.card', { novalidate: true, onsubmit: function (ev) {
          ev.preventDefault();
          var body = {
            title: f.title.value, author: f.author.value, body: f.body.value,
            tags: f.tags.value.split(',').map(function (t) { return t.trim(); }).filter(Boolean),
            published_at: fromLocalInput(f.published_at.value) || undefined,
            comments_close_after_days: f.comments_close_after_days.value === '' ? null : Number(f.comments_close_after_days.value),
            petition: f.petition.value || null, pledge: f.pledge.value || null
          };
          if (!slug) body.slug = f.slug.value;
          api(slug ? 'PUT' : 'POST', slug ? '/posts/' + enc(slug) : '/posts', body).then(function (res) {
            if (!ok(res)) { showErrors(form, res); return; }
            say(slug ? 'Saved the post.' : 'Created the post.');
            location.hash = '#/posts/' + enc(res.body.slug);
            if (slug) route();
          });
        } },
          h('h1', null, slug ? 'Edit \u201c' + p.title + '\u201d' : 'New post'),
          h('p.summary', { tabindex: '-1', role: 'alert' }),
          slug ? h('p', null, 'Slug: ', h('code', null, slug)) : field('slug', 'Slug', f.slug, 'Lowercase letters, digits and hyphens: the post\u2019s address on the blog.'),
          field('title', 'Title', f.title),
          field('author', 'Author', f.author),
          field('tags', 'Tags', f.tags, 'Separated by commas.'),
          field('body', 'Body (Markdown)', f.body),
          h('div.field', null, h('button', { type: 'button', onclick: function () {
            api('POST', '/admin/preview', { body: f.body.value }).then(function (res) {
              if (!ok(res)) { preview.textContent = problem(res); return; }
              preview.innerHTML = res.body.body_html; /* sanitised by the server */
              say('Preview updated.');
            });
          } }, 'Preview'), h('h2.small', { id: 'preview-h' }, 'Preview'), preview),
          field('published_at', 'Published (UTC)', f.published_at),
          field('comments_close_after_days', 'Comments close after (days)', f.comments_close_after_days, 'Blank: comments never close.'),
          field('petition', 'Petition shown with the post', f.petition),
          field('pledge', 'Pledge shown with the post', f.pledge),
          h('div.actions', null, h('button.primary', { type: 'submit' }, slug ? 'Save' : 'Create post'),
            slug ? h('button.danger', { type: 'button', onclick: function () {
              if (!confirm('Delete \u201c' + p.title + '\u201d and all its comments? This cannot be undone.')) return;
              api('DELETE', '/posts/' + enc(slug)).then(function (res) {
                if (!ok(res)) { say(problem(res)); return; }
                say('Deleted the post.'); location.hash = '#/posts';
              });
            } }, 'Delete post') : null));
        var parts = [form];
        if (slug) parts.push(h('section.card', { 'aria-labelledby': 'embed-h' }, h('h2', { id: 'embed-h' }, 'Embed snippet'),
          h('p', null, 'Paste this where the post\u2019s comments should appear.'), copyBox('snippet', snippet(p), 'Embed snippet')));
        show(slug ? 'Edit post' : 'New post', parts);
        focusMain();
      });
    });
  }

  /* ---- Petitions and pledges ---- */
  function single(kind) { return kind === 'petitions' ? 'petition' : 'pledge'; }
  function countOf(c) { return c.signature_count != null ? c.signature_count : c.signup_count; }
  function goalOf(c) { return c.goal != null ? c.goal : c.threshold; }
  function state(c) {
    if (c.status && c.status !== 'open') return c.status;
    return c.open ? 'open' : 'closed';
  }
  function progress(c, id) {
    var n = countOf(c), goal = goalOf(c);
    return h('div.progress', null,
      h('progress', { id: id, max: String(goal), value: String(Math.min(n, goal)), 'aria-label': 'Signups towards the goal' }),
      h('span', null, n + ' of ' + goal + ' (' + Math.floor(100 * n / goal) + '%)'));
  }

  function campaigns(kind) {
    var name = kind === 'petitions' ? 'Petitions' : 'Pledges';
    show(name, [h('h1', null, name), h('p', null, h('a.button.primary', { href: '#/' + kind + '/new' }, 'New ' + single(kind))), h('p', null, 'Loading\u2026')]);
    focusMain();
    api('GET', '/admin/' + kind + '?limit=200').then(function (r) {
      if (!ok(r)) { say(problem(r)); return; }
      var rows = r.body.items.map(function (c) {
        return h('tr', null,
          h('th', { scope: 'row' }, h('a', { href: '#/' + kind + '/' + enc(c.slug) }, c.title)),
          h('td', null, progress(c, 'progress-' + c.slug)),
          h('td', null, state(c)),
          h('td', null, day(c.closes_at || c.deadline) || '\u2014'));
      });
      main.lastChild.replaceWith(rows.length ? h('div.scroll', null, h('table', null, h('caption', null, name + ', newest first'),
        h('thead', null, h('tr', null, ['Title', 'Signups', 'State', kind === 'petitions' ? 'Closes' : 'Deadline'].map(function (t) { return h('th', { scope: 'col' }, t); }))),
        h('tbody', null, rows))) : h('p', null, 'None yet.'));
    });
  }

  function campaignForm(kind, c) {
    var pet = kind === 'petitions';
    var slug = c && c.slug;
    var blank = pet ? { title: '', body: '', target: '', goal: 1000, closes_at: null, milestones: [], post: null }
      : { title: '', body: '', threshold: 100, deadline: new Date(Date.now() + 30 * 864e5).toISOString(), currency: 'USD', suggested_amount: null, petition: null, post: null, fulfilment_text: '', fulfilment_url: '' };
    var v = c || blank;
    var loads = [api('GET', '/posts?limit=200')].concat(pet ? [] : [options('petitions', v.petition)]);
    var holder = h('div', null, h('p', null, 'Loading\u2026'));
    Promise.all(loads).then(function (res) {
      var postOpts = [h('option', { value: '' }, 'None')].concat((ok(res[0]) ? res[0].body.items : []).map(function (p) {
        return h('option', { value: p.slug, selected: p.slug === v.post }, p.title);
      }));
      var f = { slug: h('input', { required: true, pattern: '[a-z0-9-]{1,100}', autocomplete: 'off' }),
        title: h('input', { value: v.title, required: true, maxlength: '200' }),
        body: h('textarea', { rows: '6', required: true }, v.body),
        post: h('select', null, postOpts) };
      if (pet) {
        f.target = h('input', { value: v.target, required: true });
        f.goal = h('input', { type: 'number', min: '1', value: v.goal, required: true });
        f.closes_at = h('input', { type: 'datetime-local', value: toLocalInput(v.closes_at) });
        f.milestones = h('input', { value: (v.milestones || []).join(', ') });
        f.organiser_email = h('input', { type: 'email', autocomplete: 'off' });
      } else {
        f.threshold = h('input', { type: 'number', min: '1', value: v.threshold, required: true });
        f.deadline = h('input', { type: 'datetime-local', value: toLocalInput(v.deadline), required: true });
        f.currency = h('input', { value: v.currency, maxlength: '3', autocomplete: 'off' });
        f.suggested_amount = h('input', { type: 'number', min: '1', value: v.suggested_amount == null ? '' : v.suggested_amount });
        f.petition = h('select', null, res[1]);
        f.fulfilment_text = h('textarea', { rows: '4' }, v.fulfilment_text || '');
        f.fulfilment_url = h('input', { type: 'url', value: v.fulfilment_url || '' });
      }
      var form = h('form.card', { novalidate: true, 'aria-labelledby': 'form-h', onsubmit: function (ev) {
        ev.preventDefault();
        var body = { title: f.title.value, body: f.body.value, post: f.post.value || null };
        if (!slug) body.slug = f.slug.value;
        if (pet) {
          body.target = f.target.value; body.goal = Number(f.goal.value);
          body.closes_at = fromLocalInput(f.closes_at.value);
          body.milestones = f.milestones.value.split(',').map(function (m) { return m.trim(); }).filter(Boolean).map(Number);
          if (f.organiser_email.value.trim()) body.organiser_email = f.organiser_email.value.trim();
        } else {
          body.threshold = Number(f.threshold.value); body.deadline = fromLocalInput(f.deadline.value);
          body.currency = f.currency.value.trim().toUpperCase() || 'USD';
          body.suggested_amount = f.suggested_amount.value === '' ? null : Number(f.suggested_amount.value);
          body.petition = f.petition.value || null;
          body.fulfilment_text = f.fulfilment_text.value; body.fulfilment_url = f.fulfilment_url.value;
        }
        api(slug ? 'PUT' : 'POST', slug ? '/' + kind + '/' + enc(slug) : '/' + kind, body).then(function (r) {
          if (!ok(r)) { showErrors(form, r); return; }
          say(slug ? 'Saved.' : 'Created the ' + single(kind) + '.');
          if (slug) route(); else location.hash = '#/' + kind + '/' + enc(r.body.slug);
        });
      } },
        h('h2', { id: 'form-h' }, slug ? 'Edit' : 'New ' + single(kind)),
        h('p.summary', { tabindex: '-1', role: 'alert' }),
        slug ? null : field('slug', 'Slug', f.slug, 'Lowercase letters, digits and hyphens.'),
        field('title', 'Title', f.title),
        field('body', 'Text', f.body),
        pet ? [field('target', 'Addressed to', f.target), field('goal', 'Goal (signatures)', f.goal),
          field('closes_at', 'Closes (UTC)', f.closes_at, 'Blank: open until closed here.'),
          field('milestones', 'Milestones', f.milestones, 'Signature counts to be told of by mail, separated by commas.'),
          field('organiser_email', 'Organiser\u2019s email', f.organiser_email, slug ? 'Never shown. Leave blank to keep the current one.' : 'Never shown; told of the goal and milestones.')]
          : [field('threshold', 'Threshold (signups)', f.threshold), field('deadline', 'Deadline (UTC)', f.deadline),
            field('currency', 'Currency', f.currency, 'Three letters, such as USD.'), field('suggested_amount', 'Suggested amount', f.suggested_amount),
            field('petition', 'Petition it supports', f.petition),
            field('fulfilment_text', 'How to give, once it succeeds', f.fulfilment_text, 'Mailed to every signer when the threshold is reached.'),
            field('fulfilment_url', 'Where to give (link)', f.fulfilment_url)],
        field('post', 'Post it belongs to', f.post),
        h('div.actions', null, h('button.primary', { type: 'submit' }, slug ? 'Save' : 'Create ' + single(kind))));
      holder.replaceWith(form);
      if (!slug) focusMain();
    });
    if (!slug) { show('New ' + single(kind), [h('h1', null, 'New ' + single(kind)), holder]); }
    return holder;
  }

  function campaign(kind, slug) {
    var pet = kind === 'petitions';
    show(single(kind), h('p', null, 'Loading\u2026'));
    api('GET', '/' + kind + '/' + enc(slug)).then(function (r) {
      if (!ok(r)) { show('Not found', h('p', null, problem(r))); return; }
      var c = r.body;
      var chart = h('section.card', { 'aria-labelledby': 'chart-h' }, h('h2', { id: 'chart-h' }, 'Confirmed signups per day'), h('p', null, 'Loading\u2026'));
      var updates = h('section.card', { 'aria-labelledby': 'updates-h' });
      show(c.title, [
        h('h1', null, c.title),
        h('p', null, h('a', { href: '#/' + kind }, '\u2190 All ' + kind)),
        h('section.card', { 'aria-labelledby': 'state-h' },
          h('h2', { id: 'state-h' }, 'Progress'),
          progress(c, 'progress'),
          h('p', { id: 'state' }, 'This ' + single(kind) + ' is ' + state(c) +
            (pet ? (c.closes_at ? (c.open ? '; it closes ' : '; it closed ') + when(c.closes_at) : '') : '; deadline ' + when(c.deadline)) + '.' +
            (pet ? '' : ' Pledged so far: ' + c.amount_total + ' ' + c.currency + '.')),
          h('div.actions', null,
            c.open ? h('button.danger', { type: 'button', onclick: function () {
              if (!confirm('Close \u201c' + c.title + '\u201d now? Nobody can sign it after this.')) return;
              api('POST', '/admin/' + kind + '/' + enc(slug) + '/close').then(function (res) {
                if (!ok(res)) { say(problem(res)); return; }
                say('Closed.'); route();
              });
            } }, 'Close now') : null,
            h('button', { type: 'button', onclick: function () { exportCsv(kind, slug); } }, 'Export CSV'))),
        chart, updates, campaignForm(kind, c)]);
      focusMain();
      api('GET', '/admin/' + kind + '/' + enc(slug) + '/daily').then(function (d) {
        if (!ok(d)) { chart.lastChild.textContent = problem(d); return; }
        chart.lastChild.replaceWith(h('div', null, drawChart(d.body.days, 'signups', 'signups', c.created_at, 'chart-signups'),
          pet ? null : [h('h3', null, 'Pledged per day (' + c.currency + ')'), drawChart(d.body.days, 'amount', c.currency, c.created_at, 'chart-amounts')]));
      });
      renderUpdates(kind, slug, updates);
    });
  }

  /* Bars per day from the first day to today (the last 60 at most), as inline SVG with
     a title and a description, and the same figures in a table. */
  function drawChart(days, key, unit, since, id) {
    var by = {};
    days.forEach(function (d) { by[d.date] = d[key]; });
    var first = days.length ? days[0].date : day(new Date().toISOString());
    if (since && day(since) < first) first = day(since);
    var all = [], t = Date.parse(first + 'T00:00:00Z'), end = Date.parse(day(new Date().toISOString()) + 'T00:00:00Z');
    for (; t <= end; t += 864e5) all.push(new Date(t).toISOString().slice(0, 10));
    all = all.slice(-60);
    var max = Math.max.apply(null, [1].concat(all.map(function (d) { return by[d] || 0; })));
    var total = all.reduce(function (s, d) { return s + (by[d] || 0); }, 0);
    var W = 600, H = 160, gap = 2, bw = Math.max(2, (W - gap * all.length) / Math.max(all.length, 1));
    var peak = all.filter(function (d) { return (by[d] || 0) === max; })[0];
    var desc = total ? 'From ' + all[0] + ' to ' + all[all.length - 1] + ': ' + total + ' ' + unit + ' in all; the most, ' + max + ', on ' + peak + '.'
      : 'None yet.';
    var bars = all.map(function (d, i) {
      var v = by[d] || 0, bh = Math.round((H - 20) * v / max);
      return svg('rect', { x: (i * (bw + gap)).toFixed(1), y: String(H - bh), width: bw.toFixed(1), height: String(bh), class: 'bar' },
        svg('title', null, d + ': ' + v + ' ' + unit));
    });
    var graphic = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-labelledby': id + '-t ' + id + '-d', class: 'chart', id: id },
      svg('title', { id: id + '-t' }, 'Confirmed ' + unit + ' per day'), svg('desc', { id: id + '-d' }, desc),
      svg('line', { x1: '0', y1: String(H), x2: String(W), y2: String(H), class: 'axis' }));
    bars.forEach(function (b) { graphic.appendChild(b); });
    var rows = all.filter(function (d) { return by[d]; }).map(function (d) { return h('tr', null, h('th', { scope: 'row' }, d), h('td', null, String(by[d]))); });
    return h('figure', null, graphic, h('figcaption', null, desc),
      h('details', null, h('summary', null, 'The figures'), h('table', { class: 'figures', id: id + '-table' },
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Day'), h('th', { scope: 'col' }, unit))), h('tbody', null, rows))));
  }

  function exportCsv(kind, slug) {
    var path = '/admin/' + kind + '/' + enc(slug) + (kind === 'petitions' ? '/signatures.csv' : '/signups.csv');
    var parts = [];
    say('Exporting\u2026');
    (function page(cursor) {
      api('GET', path + '?limit=5000' + (cursor ? '&cursor=' + enc(cursor) : ''), undefined, true).then(function (r) {
        if (!ok(r)) { say(problem({ status: r.status, body: null })); return; }
        parts.push(r.body);
        var next = r.headers.get('X-Next-Cursor');
        if (next) return page(next);
        var a = h('a', { href: URL.createObjectURL(new Blob(parts, { type: 'text/csv' })), download: slug + '-' + (kind === 'petitions' ? 'signatures' : 'signups') + '.csv' });
        document.body.appendChild(a); a.click(); a.remove();
        say('Exported the CSV.');
      });
    })(null);
  }

  function renderUpdates(kind, slug, box) {
    var list = h('ul.updates', { id: 'updates' });
    var subject = h('input', { required: true, maxlength: '200' });
    var text = h('textarea', { rows: '5', required: true });
    var form = h('form', { novalidate: true, 'data-prefix': 'u', onsubmit: function (ev) {
      ev.preventDefault();
      if (!confirm('Mail this update to every signer who asked for updates?')) return;
      api('POST', '/admin/' + kind + '/' + enc(slug) + '/updates', { subject: subject.value, body: text.value }).then(function (r) {
        if (!ok(r)) { showErrors(form, r); return; }
        subject.value = ''; text.value = '';
        say('The update is on its way.');
        load();
      });
    } }, h('p.summary', { tabindex: '-1', role: 'alert' }), field('subject', 'Subject', subject, null, 'u'), field('body', 'Update (plain text or Markdown)', text, null, 'u'),
      h('div.actions', null, h('button.primary', { type: 'submit' }, 'Send update')));
    add(box, [h('h2', { id: 'updates-h' }, 'Updates to signers'), form, h('h3', null, 'Sent'), list]);
    var timer = null;
    function load() {
      api('GET', '/admin/' + kind + '?limit=200').then(function (r) {
        if (!ok(r)) return;
        var mine = r.body.items.filter(function (c) { return c.slug === slug; })[0];
        var ids = mine ? mine.updates : [];
        return Promise.all(ids.map(function (id) { return api('GET', '/admin/updates/' + enc(id)); })).then(function (all) {
          list.textContent = '';
          if (!all.length) list.appendChild(h('li', null, 'None yet.'));
          var busy = false;
          all.forEach(function (u) {
            if (!ok(u)) return;
            var p = u.body;
            busy = busy || p.status !== 'done';
            list.appendChild(h('li', null, h('strong', null, p.subject), ' \u00b7 ', when(p.created_at), ' \u00b7 ',
              h('span.update-progress', null, p.status + ': ' + p.sent + ' sent, ' + p.pending + ' pending, ' + p.failed + ' failed')));
          });
          clearTimeout(timer);
          if (busy && list.isConnected) timer = setTimeout(load, 3000);
        });
      });
    }
    load();
  }

  window.addEventListener('hashchange', route);
  route();
})();
