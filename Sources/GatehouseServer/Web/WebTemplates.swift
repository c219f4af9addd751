import Foundation
import Mustache

/// The page's Mustache templates. `{{name}}` escapes HTML, and every value that comes from a request, a person or the
/// database is written that way; the two triple-braces, `{{{body}}}` and `{{{rowsHTML}}}`, take what these templates
/// rendered.
enum WebTemplates {
    static let library: MustacheLibrary = {
        MustacheContentTypes.register(HTMLBytes(), named: "HTMLBytes")
        var library = MustacheLibrary()
        for (name, text) in [
            ("layout", layout), ("pending", pending), ("pendingList", pendingList), ("pendingRows", pendingRows),
            ("approval", approval), ("message", message), ("history", history), ("breakGlass", breakGlass),
        ] {
            // The templates are constants of this file: one that does not parse is a bug found by every test.
            try! library.register("{{% CONTENT_TYPE: HTMLBytes }}" + text, named: name)
        }
        return library
    }()

    static func render(_ object: Any, _ name: String) -> String {
        library.render(object, withTemplate: name) ?? ""
    }

    static let layout = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="color-scheme" content="light dark">
        <title>{{title}} · Gatehouse</title>
        <link rel="icon" href="/ui/static/icon.svg" type="image/svg+xml">
        <link rel="stylesheet" href="/ui/static/app.css">
        <script src="/ui/static/app.js" defer></script>
        </head>
        <body>
        <a class="skip" href="#main">Skip to the content</a>
        <header class="bar">
        <a class="brand" href="/ui">Gatehouse</a>
        {{#signedIn}}
        <nav aria-label="Pages"><a href="/ui"{{#onPending}} aria-current="page"{{/onPending}}>Pending</a><a href="/ui/history"{{#onHistory}} aria-current="page"{{/onHistory}}>History</a>{{#admin}}<a href="/ui/break-glass"{{#onBreakGlass}} aria-current="page"{{/onBreakGlass}}>Break-glass</a>{{/admin}}</nav>
        <span class="who">{{person}}</span>
        <form method="post" action="/ui/logout"><input type="hidden" name="csrf" value="{{csrf}}"><button class="link" type="submit">Sign out</button></form>
        {{/signedIn}}
        </header>
        <main id="main">
        {{{body}}}
        </main>
        </body>
        </html>
        """

    static let pending = """
        <h1>Pending <span class="muted" data-count>{{count}}</span></h1>
        {{> pendingList}}
        """

    static let pendingList = """
        <div id="pending" aria-live="polite">
        {{^hasRows}}<p class="notice">Nothing is waiting for a decision.</p>{{/hasRows}}
        {{#hasRows}}<ul class="cards">{{/hasRows}}
        {{{rowsHTML}}}
        {{#hasRows}}</ul>{{/hasRows}}
        </div>
        """

    /// The pending list's rows, rendered by `renderRows` (and put in `pendingList` by its one triple-brace).
    static let pendingRows = """
        {{#rows}}
        <li class="card risk-{{risk}}">
        <a class="open" href="/ui/approvals/{{id}}">{{action}}</a>
        <dl class="facts">
        <dt>Risk</dt><dd><span class="badge {{risk}}">{{risk}}</span></dd>
        <dt>Requester</dt><dd>{{requester}}</dd>
        <dt>Pending</dt><dd>{{age}}</dd>
        <dt>{{deadlineLabel}}</dt><dd>{{deadlineIn}}</dd>
        <dt>Level</dt><dd>{{level}}</dd>
        <dt>Votes</dt><dd>{{votes}}</dd>
        </dl>
        {{#reasoning}}<p class="reasoning">{{reasoning}}</p>{{/reasoning}}
        </li>
        {{/rows}}
        """

    /// Rows rendered in slices side by side, one per core (at most four), once there are enough of them for that to
    /// pay: rendering is most of the time of a long pending page, and on two cores a page of 1,000 requests takes about
    /// half as long this way (scripts/bench-web). The slices are joined in order.
    static func renderRows(_ rows: [WebViews.Row]) async -> String {
        let slices = rows.count < 200 ? 1 : min(4, max(1, ProcessInfo.processInfo.activeProcessorCount))
        guard slices > 1 else { return render(["rows": rows], "pendingRows") }
        let size = (rows.count + slices - 1) / slices
        return await withTaskGroup(of: (Int, String).self) { group in
            for (index, start) in stride(from: 0, to: rows.count, by: size).enumerated() {
                let slice = Array(rows[start..<min(start + size, rows.count)])
                group.addTask { (index, render(["rows": slice], "pendingRows")) }
            }
            var parts: [(Int, String)] = []
            for await part in group { parts.append(part) }
            return parts.sorted { $0.0 < $1.0 }.map(\.1).joined()
        }
    }

    static let approval = """
        <h1>{{action}}</h1>
        <p><span class="badge {{risk}}">{{risk}}</span> <strong>{{status}}</strong> · <span class="muted">{{id}}</span></p>
        {{#flash}}<p class="notice" role="status">{{flash}}</p>{{/flash}}
        <dl class="facts">
        <dt>Requester</dt><dd>{{requester}}</dd>
        <dt>Gate</dt><dd>{{gate}}</dd>
        <dt>Filed</dt><dd>{{createdAt}} ({{age}} ago)</dd>
        {{#pending}}<dt>{{deadlineLabel}}</dt><dd>{{deadlineIn}}</dd><dt>Level</dt><dd>{{level}}</dd>{{/pending}}
        <dt>Expires</dt><dd>{{expiresAt}}</dd>
        {{#reasoning}}<dt>Reasoning</dt><dd>{{reasoning}}</dd>{{/reasoning}}
        {{#consequences}}<dt>Consequences</dt><dd>{{consequences}}</dd>{{/consequences}}
        {{#onReject}}<dt>If rejected</dt><dd>{{onReject}}</dd>{{/onReject}}
        {{#policy}}<dt>Policy</dt><dd>{{policy}}</dd>{{/policy}}
        {{#slackLink}}<dt>Slack</dt><dd><a href="{{slackLink}}" rel="noreferrer">The message in Slack</a></dd>{{/slackLink}}
        </dl>
        {{#decision}}
        <h2>Decision</h2>
        <dl class="facts">
        <dt>Outcome</dt><dd>{{outcome}}</dd><dt>By</dt><dd>{{by}}</dd><dt>At</dt><dd>{{at}}</dd>
        {{#reason}}<dt>Reason</dt><dd>{{reason}}</dd>{{/reason}}
        {{#reasonCode}}<dt>Reason code</dt><dd>{{reasonCode}}</dd>{{/reasonCode}}
        </dl>
        {{/decision}}
        <h2>Payload</h2>
        <pre>{{payload}}</pre>
        {{#hasDiff}}
        <h2>Changes</h2>
        <pre class="diff" aria-label="Changes to the payload">{{#diff}}<span class="{{kind}}">{{mark}} {{text}}</span>
        {{/diff}}</pre>
        {{/hasDiff}}
        {{#hasVotes}}
        <h2>Votes</h2>
        <ul>{{#votes}}<li>{{by}}: {{verdict}} at {{at}}{{#reason}} — {{reason}}{{/reason}}{{#withdrawn}} (withdrawn){{/withdrawn}}</li>{{/votes}}</ul>
        {{/hasVotes}}
        {{#decidable}}
        <h2 id="decide">Decide</h2>
        {{#error}}<p class="error" role="alert" id="decide-error">{{error}}</p>{{/error}}
        <form class="decide" method="post" action="/ui/approvals/{{id}}/approve">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <button class="primary" type="submit">Approve</button>
        </form>
        <form class="decide" id="reject-form" method="post" action="/ui/approvals/{{id}}/reject#reject-form">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="reason">Why reject? (required)</label>
        {{#reasonError}}<p class="error" id="reason-error">{{reasonError}}</p>{{/reasonError}}
        <textarea id="reason" name="reason" rows="2" required{{#reasonError}} aria-invalid="true" aria-describedby="reason-error"{{/reasonError}}>{{reason}}</textarea>
        <label for="reason_code">Reason code</label>
        <select id="reason_code" name="reason_code">
        <option value="">None</option>
        {{#reasonCodes}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/reasonCodes}}
        </select>
        <button class="danger" type="submit">Reject</button>
        </form>
        <form class="decide" id="modify-form" method="post" action="/ui/approvals/{{id}}/modify#modify-form">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="payload">Approve with this payload (JSON)</label>
        {{#payloadError}}<p class="error" id="payload-error">{{payloadError}}</p>{{/payloadError}}
        <textarea class="code" id="payload" name="payload" rows="10" spellcheck="false"{{#payloadError}} aria-invalid="true" aria-describedby="payload-error"{{/payloadError}}>{{editedPayload}}</textarea>
        <button type="submit">Approve with changes</button>
        </form>
        <details class="decide">
        <summary>Break the glass (emergency)</summary>
        <form method="post" action="/ui/approvals/{{id}}/break-glass">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="bg-reason">Why is this an emergency? (required)</label>
        <textarea id="bg-reason" name="reason" rows="2" required></textarea>
        <button class="danger" type="submit">Approve at once, loudly</button>
        </form>
        </details>
        {{/decidable}}
        {{^decidable}}{{#error}}<p class="error" role="alert" id="decide-error">{{error}}</p>{{/error}}{{/decidable}}
        <h2>Audit trail</h2>
        <div class="scroll"><table>
        <thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">Who</th></tr></thead>
        <tbody>{{#audit}}<tr><td>{{at}}</td><td>{{kind}}</td><td>{{actor}}</td></tr>{{/audit}}</tbody>
        </table></div>
        """

    static let history = """
        <h1>History</h1>
        <form class="filters" method="get" action="/ui/history" role="search" aria-label="Filter requests">
        <label for="f-status">Status</label>
        <select id="f-status" name="status"><option value="">Any</option>{{#statuses}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/statuses}}</select>
        <label for="f-gate">Gate</label><input type="text" id="f-gate" name="gate" value="{{gate}}">
        <label for="f-requester">Requester</label><input type="text" id="f-requester" name="requester" value="{{requester}}">
        <label for="f-text">Action or reasoning contains</label><input type="search" id="f-text" name="q" value="{{q}}">
        <button type="submit">Filter</button>
        </form>
        {{^hasRows}}<p class="notice">No requests match.</p>{{/hasRows}}
        {{#hasRows}}<ul class="cards">{{/hasRows}}
        {{#rows}}
        <li class="card risk-{{risk}}">
        <a class="open" href="/ui/approvals/{{id}}">{{action}}</a>
        <dl class="facts">
        <dt>Status</dt><dd>{{status}}</dd>
        <dt>Risk</dt><dd><span class="badge {{risk}}">{{risk}}</span></dd>
        <dt>Requester</dt><dd>{{requester}}</dd>
        <dt>Gate</dt><dd>{{gate}}</dd>
        <dt>Filed</dt><dd>{{createdAt}}</dd>
        {{#decidedBy}}<dt>Decided by</dt><dd>{{decidedBy}}</dd>{{/decidedBy}}
        </dl>
        </li>
        {{/rows}}
        {{#hasRows}}</ul>{{/hasRows}}
        {{#nextLink}}<p><a class="more" href="{{nextLink}}">Older requests</a></p>{{/nextLink}}
        """

    static let breakGlass = """
        <h1>Break-glass approvals</h1>
        {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
        {{#flash}}<p class="notice" role="status">{{flash}}</p>{{/flash}}
        {{^hasUses}}<p class="notice">Nobody has broken the glass.</p>{{/hasUses}}
        {{#hasUses}}<ul class="cards">{{/hasUses}}
        {{#uses}}
        <li class="card risk-critical">
        <a class="open" href="/ui/approvals/{{id}}">{{action}}</a>
        <dl class="facts">
        <dt>By</dt><dd>{{by}}</dd><dt>At</dt><dd>{{at}}</dd><dt>Reason</dt><dd>{{reason}}</dd>
        {{#overLimit}}<dt>Limit</dt><dd>over the limit</dd>{{/overLimit}}
        <dt>Review</dt><dd>{{#reviewedBy}}reviewed by {{reviewedBy}}{{/reviewedBy}}{{^reviewedBy}}<strong>not reviewed</strong>{{/reviewedBy}}</dd>
        </dl>
        {{^reviewedBy}}<form method="post" action="/ui/break-glass/{{id}}/review"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">Mark reviewed</button></form>{{/reviewedBy}}
        </li>
        {{/uses}}
        {{#hasUses}}</ul>{{/hasUses}}
        """

    static let message = """
        <h1>{{heading}}</h1>
        <p class="notice">{{text}}</p>
        """
}

/// HTML escaping as the template engine's own (`<`, `>`, `&`, `"` and `'`), over UTF-8 bytes instead of characters, and
/// no copy at all for the common text with nothing to escape: the engine's version was a fifth of the time of a pending
/// page of 1,000 requests (scripts/bench-web).
struct HTMLBytes: MustacheContentType {
    func escapeText(_ text: String) -> String {
        guard text.utf8.contains(where: Self.needsEscape) else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 32)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "<"): out += Array("&lt;".utf8)
            case UInt8(ascii: ">"): out += Array("&gt;".utf8)
            case UInt8(ascii: "&"): out += Array("&amp;".utf8)
            case UInt8(ascii: "\""): out += Array("&quot;".utf8)
            case UInt8(ascii: "'"): out += Array("&#39;".utf8)
            default: out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">") || byte == UInt8(ascii: "&") || byte == UInt8(ascii: "\"")
            || byte == UInt8(ascii: "'")
    }
}

// The pending list's rows answer the template's names themselves, with values of the engine's own kind. Left to
// reflection, the engine builds a `Mirror` of the row for every `{{name}}` it fills, which was three fifths of the
// time of a pending page of 1,000 requests; and a plain `String` goes through four failed casts and
// `String(describing:)` before it is escaped (scripts/bench-web; BENCHMARKS.md has the figures before and after).
extension WebViews.Row: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "id": TemplateText(id)
        case "action": TemplateText(action)
        case "risk": TemplateText(risk)
        case "requester": TemplateText(requester)
        case "age": TemplateText(age)
        case "deadlineLabel": TemplateText(deadlineLabel)
        case "deadlineIn": TemplateText(deadlineIn)
        case "level": TemplateText(level)
        case "votes": TemplateText(votes)
        case "reasoning": reasoning.map(TemplateText.init)
        default: nil
        }
    }
}

extension WebViews.PendingList: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "rowsHTML": rowsHTML
        case "hasRows": hasRows
        case "count": count
        default: nil
        }
    }
}

/// Text for `{{name}}`: escaped by the template's content type like any string, found by the engine in one cast. Inside
/// its own section (`{{#reasoning}}…{{/reasoning}}`) it has no names of its own, so the lookup goes on to the row.
struct TemplateText: MustacheCustomRenderable, MustacheParent {
    let renderText: String
    var isNull: Bool { false }

    init(_ text: String) { renderText = text }

    func child(named name: String) -> Any? { nil }
}
