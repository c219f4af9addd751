/// The page's style sheet and script, served as files (`/ui/static/…`) so the Content-Security-Policy can forbid every
/// inline script and style. Phone first: one column at 360 px, tap targets of at least 44 px, the system's dark mode.
enum WebAssets {
    static let css = """
        :root{color-scheme:light dark;--bg:#f6f7f9;--fg:#15181d;--muted:#5b6472;--card:#fff;--line:#d5dae1;--accent:#1f5fbf;
        --ok:#17693a;--bad:#a3201c;--warn:#8a5a00;--focus:#2a6fe0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
        @media (prefers-color-scheme:dark){:root{--bg:#111418;--fg:#e8ebef;--muted:#a3acb9;--card:#1b1f26;--line:#343b46;
        --accent:#7fb0ff;--ok:#5fd08a;--bad:#ff8a80;--warn:#f3c15b;--focus:#8fb8ff}}
        *{box-sizing:border-box}
        body{margin:0;background:var(--bg);color:var(--fg);overflow-wrap:break-word}
        h1,dd,p,a.open,li{overflow-wrap:anywhere}
        a{color:var(--accent)}
        :focus-visible{outline:3px solid var(--focus);outline-offset:2px}
        .skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:var(--card);padding:8px}
        header.bar{display:flex;flex-wrap:wrap;align-items:center;gap:4px 12px;padding:4px 12px;background:var(--card);
        border-bottom:1px solid var(--line)}
        header.bar .brand{font-weight:700;text-decoration:none;color:var(--fg);min-height:44px;display:flex;align-items:center}
        header.bar nav{display:flex;gap:4px;flex:1 0 auto}
        header.bar nav a{min-height:44px;display:flex;align-items:center;padding:0 10px;text-decoration:none;white-space:nowrap}
        header.bar .who,header.bar .brand{white-space:nowrap}
        header.bar nav a[aria-current=page]{font-weight:700;text-decoration:underline}
        header.bar form{margin:0}
        .who{color:var(--muted);font-size:.9em}
        main{max-width:960px;margin:0 auto;padding:12px}
        h1{font-size:1.4em;margin:.4em 0}h2{font-size:1.15em;margin:1.2em 0 .4em}
        ul.cards{list-style:none;margin:0;padding:0;display:grid;gap:10px}
        .card{background:var(--card);border:1px solid var(--line);border-left:6px solid var(--line);border-radius:8px;padding:10px 12px}
        .card a.open{display:block;min-height:44px;padding:4px 0;font-weight:600;font-size:1.05em}
        .risk-low{border-left-color:var(--ok)}.risk-medium{border-left-color:var(--warn)}
        .risk-high,.risk-critical{border-left-color:var(--bad)}
        .badge{display:inline-block;font-size:.8em;font-weight:700;text-transform:uppercase;padding:1px 6px;border-radius:4px;
        border:1px solid currentColor}
        .badge.low{color:var(--ok)}.badge.medium{color:var(--warn)}.badge.high,.badge.critical{color:var(--bad)}
        dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px;margin:6px 0}
        dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
        .reasoning{margin:6px 0 0;color:var(--muted)}
        pre{background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:8px;overflow-x:auto;
        white-space:pre-wrap;font-size:.9em}
        .diff .add{color:var(--ok)}.diff .del{color:var(--bad)}
        form.decide{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 12px;margin:10px 0}
        label{display:block;font-weight:600;margin:8px 0 4px}
        textarea,select,input[type=text],input[type=search]{width:100%;font:inherit;color:inherit;background:var(--bg);border:1px solid var(--line);
        border-radius:6px;padding:8px;min-height:44px}
        textarea.code{font-family:ui-monospace,Menlo,monospace;font-size:.9em}
        button{font:inherit;min-height:44px;min-width:44px;padding:8px 16px;border-radius:6px;border:1px solid var(--line);
        background:var(--card);color:var(--fg);cursor:pointer;margin-top:8px}
        button.primary{background:var(--ok);border-color:var(--ok);color:#fff}
        button.danger{background:var(--bad);border-color:var(--bad);color:#fff}
        @media (prefers-color-scheme:dark){button.primary,button.danger{color:#111418}}
        button.link{background:none;border:none;color:var(--accent);text-decoration:underline;padding:0 8px;margin:0}
        .error{color:var(--bad);font-weight:600}
        .notice{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 12px}
        table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:4px 6px;border-bottom:1px solid var(--line);
        vertical-align:top}
        .scroll{overflow-x:auto}
        .muted{color:var(--muted)}
        form.filters{display:grid;gap:0 12px;margin-bottom:12px}
        details.decide{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 12px;margin:10px 0}
        details.decide summary{min-height:44px;display:flex;align-items:center;cursor:pointer}
        a.more{display:inline-flex;align-items:center;min-height:44px}
        """

    /// The tab's icon: a gate.
    static let icon = """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1f5fbf"/>\
        <path d="M4 13V6l4-3 4 3v7M6 13V8h4v5" fill="none" stroke="#fff" stroke-width="1.5"/></svg>
        """

    /// Live updates of the pending list: the server says when something changed, and the list is fetched again; also
    /// on every (re)connection, since what changed while the stream was down (a restart) was not said.
    static let js = """
        "use strict";
        (function () {
          var list = document.getElementById("pending");
          if (!list || !window.EventSource) return;
          function refresh() {
            fetch("/ui/pending-list", { credentials: "same-origin" }).then(function (r) {
              if (r.ok) return r.text();
              throw new Error(String(r.status));
            }).then(function (html) {
              var holder = document.createElement("div");
              holder.innerHTML = html;
              var fresh = holder.querySelector("#pending");
              if (fresh) { list.replaceWith(fresh); list = fresh; }
              var count = holder.querySelector("[data-count]");
              var shown = document.querySelector("h1 [data-count]");
              if (count && shown) shown.textContent = count.textContent;
            }).catch(function () {});
          }
          var source = new EventSource("/ui/events");
          source.addEventListener("change", refresh);
          source.addEventListener("open", refresh);
        })();
        """
}
