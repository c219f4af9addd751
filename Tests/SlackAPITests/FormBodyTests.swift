import SlackAPI
import Testing

@Suite("Form bodies")
struct FormBodyTests {
    @Test("plus is a space, percent escapes are bytes, UTF-8 is decoded")
    func decoding() {
        let fields = FormBody.parse(Array("text=deploy+to+prod%21&a%2Bb=1%2B1&name=Ren%C3%A9e&empty=&flag".utf8))
        #expect(fields["text"] == "deploy to prod!")
        #expect(fields["a+b"] == "1+1")
        #expect(fields["name"] == "Renée")
        #expect(fields["empty"] == "")
        #expect(fields["flag"] == "")
    }

    @Test("malformed escapes are kept literally, empty pairs skipped, the first occurrence wins")
    func leniency() {
        let fields = FormBody.parse("a=%zz&&b=100%&a=second&c=x=y")
        #expect(fields["a"] == "%zz")
        #expect(fields["b"] == "100%")
        #expect(fields["c"] == "x=y")
        #expect(fields.count == 3)
    }

    @Test("encoding escapes everything but unreserved characters and round-trips")
    func encoding() {
        let fields = [("payload", #"{"a":"b & c","url":"https:\/\/x.test\/?q=1+2"}"#), ("text", "Grüße 👋 100%"), ("k y", "")]
        let body = FormBody.encode(fields)
        #expect(body.allSatisfy { $0.isASCII })
        #expect(!body.contains(" ") && !body.contains("\"") && !body.contains("{") && !body.contains("/"))
        #expect(body.split(separator: "&").count == 3)
        #expect(FormBody.encode([("text", "a b+c/d~e_f.g-h")]) == "text=a+b%2Bc%2Fd~e_f.g-h")
        let parsed = FormBody.parse(body)
        for (name, value) in fields { #expect(parsed[name] == value) }
    }
}
