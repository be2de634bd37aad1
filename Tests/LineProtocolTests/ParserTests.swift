import LineProtocol
import Testing

private typealias Tag = LineProtocol.Tag

@Suite("Line protocol parser")
struct ParserTests {
    let parser = LineProtocolParser(precision: .nanoseconds, defaultTimestamp: 42)

    func one(_ text: String, precision: Precision = .nanoseconds) throws -> Point {
        let points = try LineProtocolParser(precision: precision, defaultTimestamp: 42).parse(Array(text.utf8))
        #expect(points.count == 1)
        return points[0]
    }

    // Golden cases from the InfluxDB line protocol reference.
    @Test func referenceExample() throws {
        let point = try one("weather,location=us-midwest temperature=82 1465839830100400200")
        #expect(point.measurement == "weather")
        #expect(point.tags == [Tag("location", "us-midwest")])
        #expect(point.fields == [Field("temperature", .float(82))])
        #expect(point.timestamp == 1_465_839_830_100_400_200)
    }

    @Test func everyFieldType() throws {
        let point = try one(
            #"m f=1.5,i=-3i,u=7u,s="hi",t=t,T=T,tr=true,Tr=True,TR=TRUE,fa=f,F=F,Fa=False,FA=FALSE,e=-1.2e3"#)
        #expect(
            point.fields.map(\.value) == [
                .float(1.5), .integer(-3), .unsigned(7), .string("hi"), .boolean(true), .boolean(true), .boolean(true),
                .boolean(true), .boolean(true), .boolean(false), .boolean(false), .boolean(false), .boolean(false),
                .float(-1200),
            ])
        #expect(point.timestamp == 42, "no timestamp: the server's time")
    }

    @Test func escapes() throws {
        let point = try one(
            #"my\ meas\,urement,tag\ key=tag\,val\=ue field\=key="a \"quoted\" \\ string, with = signs" 1"#)
        #expect(point.measurement == "my meas,urement")
        #expect(point.tags == [Tag("tag key", "tag,val=ue")])
        #expect(point.fields == [Field("field=key", .string(#"a "quoted" \ string, with = signs"#))])
    }

    @Test func tagsAreSortedAndDuplicatesKeepTheLast() throws {
        let point = try one("m,z=1,a=2,z=3 v=1")
        #expect(point.tags == [Tag("a", "2"), Tag("z", "3")])
    }

    @Test(arguments: [
        (Precision.nanoseconds, Int64(5)), (.microseconds, 5_000), (.milliseconds, 5_000_000),
        (.seconds, 5_000_000_000),
        (.minutes, 300_000_000_000), (.hours, 18_000_000_000_000),
    ])
    func precisions(precision: Precision, expected: Int64) throws {
        #expect(try one("m v=1 5", precision: precision).timestamp == expected)
    }

    @Test func commentsBlankLinesAndCRLF() throws {
        let text = "# a comment\n\n  \r\nm v=1 1\r\n# another\nm v=2 2\n"
        let points = try parser.parse(Array(text.utf8))
        #expect(points.map(\.timestamp) == [1, 2])
    }

    @Test(arguments: [
        ("m", 1, 2, "expected a space and fields"),
        ("m v=1.5i", 1, 5, "not a valid integer"),
        ("m v=abc", 1, 5, "not a valid value"),
        (#"m v="open"#, 1, 5, "unterminated string"),
        ("m v=1 12x", 1, 7, "not a valid timestamp"),
        ("m,t v=1", 1, 4, "expected '=' after tag key"),
        ("ok v=1\nm =1", 2, 3, "missing field key"),
        ("m v=1 99999999999999999999", 1, 7, "not a valid timestamp"),
    ])
    func errorsNameLineAndColumn(text: String, line: Int, column: Int, reason: String) {
        do {
            _ = try parser.parse(Array(text.utf8))
            Issue.record("'\(text)' parsed")
        } catch {
            #expect(error.line == line)
            #expect(error.column == column)
            #expect(error.reason.contains(reason), "\(error)")
        }
    }

    @Test func timestampOverflowAfterPrecisionIsAnError() {
        #expect(throws: LineProtocolError.self) {
            try LineProtocolParser(precision: .hours, defaultTimestamp: 0).parse(Array("m v=1 9000000000000".utf8))
        }
    }

    @Test func randomBytesNeverCrash() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("m,=\\\" .-+0123456789ietfuTF#\n\r\tabc".utf8)
        for _ in 0..<3_000 {
            let length = Int.random(in: 0..<60, using: &generator)
            let bytes = (0..<length).map { _ in
                Bool.random(using: &generator)
                    ? alphabet.randomElement(using: &generator)! : UInt8.random(in: 0...255, using: &generator)
            }
            _ = try? parser.parse(bytes)
        }
    }

    @Test func generatedPointsRoundTrip() throws {
        var generator = SystemRandomNumberGenerator()
        let pieces = ["a", "b c", "d,e", "f=g", #"h\i"#, "j\"k", "ü"]
        for _ in 0..<500 {
            let measurement = (0..<Int.random(in: 1...3, using: &generator)).map { _ in pieces.randomElement()! }
                .joined()
            var tags: [Tag] = []
            for i in 0..<Int.random(in: 0...3, using: &generator) {
                tags.append(Tag("t\(i)\(pieces.randomElement()!)", pieces.randomElement()!))
            }
            var fields: [Field] = []
            for i in 0..<Int.random(in: 1...4, using: &generator) {
                let value: FieldValue
                switch Int.random(in: 0..<5, using: &generator) {
                case 0: value = .float(Double(Int.random(in: -1000...1000)) / 8)
                case 1: value = .integer(Int64.random(in: .min ... .max))
                case 2: value = .unsigned(UInt64.random(in: 0 ... .max))
                case 3: value = .string(pieces.shuffled().joined())
                default: value = .boolean(Bool.random())
                }
                fields.append(Field("f\(i)\(pieces.randomElement()!)", value))
            }
            let point = Point(
                measurement: measurement, tags: tags, fields: fields, timestamp: Int64.random(in: -1_000_000...1 << 62))
            let parsed = try parser.parse(Array(LineFormatter.line(point).utf8))
            #expect(parsed == [point], "\(LineFormatter.line(point))")
        }
    }

    @Test("a point's line number skips blank, comment and CRLF-only lines, as the parser does")
    func pointLines() throws {
        let body = Array("# header\n\nm v=1 1\r\n  \r\n\tm v=2 2\n# more\nm v=3 3".utf8)
        #expect(try LineProtocolParser(defaultTimestamp: 0).parse(body).count == 3)
        #expect(LineProtocolParser.lineNumber(ofPoint: 0, in: body) == 3)
        #expect(LineProtocolParser.lineNumber(ofPoint: 1, in: body) == 5)
        #expect(LineProtocolParser.lineNumber(ofPoint: 2, in: body) == 7)
        #expect(LineProtocolParser.lineNumber(ofPoint: 3, in: body) == nil)
    }
}

/// Writes points as line protocol (test support for round trips).
enum LineFormatter {
    static func escape(_ s: String, _ special: String) -> String {
        var out = ""
        for c in s {
            if special.contains(c) || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out
    }

    static func line(_ point: Point) -> String {
        var text = escape(point.measurement, ", ")
        for tag in point.tags { text += "," + escape(tag.key, ",= ") + "=" + escape(tag.value, ",= ") }
        text += " "
        text += point.fields.map { field in
            let value: String
            switch field.value {
            case .float(let v): value = "\(v)"
            case .integer(let v): value = "\(v)i"
            case .unsigned(let v): value = "\(v)u"
            case .string(let v):
                value =
                    "\"" + v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                    + "\""
            case .boolean(let v): value = v ? "true" : "false"
            }
            return escape(field.key, ",= ") + "=" + value
        }.joined(separator: ",")
        return text + " \(point.timestamp)"
    }
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
