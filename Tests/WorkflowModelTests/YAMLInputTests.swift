import Foundation
import Testing
import Yams
@testable import WorkflowModel

/// What composing refuses, and where it says the problem is.
@Suite struct YAMLInputTests {
    func failure(_ bytes: Data) throws -> String {
        let folder = try Scratch.folder()
        let path = try Scratch.file("input.yaml", bytes, in: folder)
        do {
            _ = try YAMLFile(path: path)
            return "composed"
        } catch {
            return error.description.replacingOccurrences(of: folder + "/", with: "")
        }
    }

    @Test func aNulByteIsReportedAtItsLineAndColumn() throws {
        #expect(try failure(Data("workflow: a\ntitle: 名b\0c\n".utf8))
                == "input.yaml:2:10: error: a NUL byte (0x00) is not allowed in YAML text; expected a text file")
    }

    @Test func aByteThatIsNotUTF8IsReportedAtItsLineAndColumn() throws {
        var bytes = Data("workflow: a\ntitle: 中".utf8)
        bytes.append(0xFF)
        #expect(try failure(bytes) == "input.yaml:2:9: error: byte 0xFF is not UTF-8 text; expected the file to be saved as UTF-8")
    }

    @Test func anotherControlCharacterIsReportedAtItsLineAndColumn() throws {
        #expect(try failure(Data("workflow: a\ntitle: x\u{7}\n".utf8))
                == "input.yaml:2:9: error: cannot read YAML: control characters are not allowed (0x07)")
    }

    @Test func aDuplicateKeyIsReportedAtTheRepetitionNamingTheFirst() throws {
        #expect(try failure(Data("workflow: a\ntitle: x\nsteps:\n  - id: s\n    title: y\n    title: z\n".utf8))
                == "input.yaml:6:5: error: duplicate key 'title' (first given on line 5); expected each key once in a mapping")
    }

    @Test func aDuplicateKeyInOneLineIsReportedAtTheFirst() throws {
        #expect(try failure(Data("with: { text: a, text: b }\n".utf8))
                == "input.yaml:1:9: error: duplicate key 'text': given more than once in this mapping; expected each key once")
    }

    /// Ten levels of anchors, each alias used ten times, under an allowed key: 10¹⁰ nodes if expanded.
    static let aliasBomb: String = {
        var text = "workflow: bomb\ntitle: 炸弹\nsteps:\n  - id: a\n    title: a\n    uses: record\n    with:\n      text: x\n      fields:\n"
        text += "        l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1..<10 {
            text += "        l\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        return text
    }()

    @Test func anAliasBombIsRefusedAtItsFirstAnchor() throws {
        let folder = try Scratch.folder()
        let path = try Scratch.file("bomb.yaml", Self.aliasBomb, in: folder)
        #expect(findings(try fixtureChecker().check(path: path), in: folder) == [
            "bomb.yaml:10:13: error: anchors and aliases (&l0, *l0) are not allowed; expected the value written out in full",
        ])
    }

    @Test func anAliasUsedAsAKeyIsRefusedToo() throws {
        #expect(try failure(Data("a: &k x\n*k : y\n".utf8)) == "input.yaml:1:4: error: anchors and aliases (&k, *k) are not allowed; expected the value written out in full")
    }

    /// Yams hashes mapping keys while composing: an alias to the bomb used as a key would be
    /// expanded before any check of the tree.
    @Test func anAliasBombUsedAsAKeyIsRefusedBeforeComposing() throws {
        let text = Self.aliasBomb + "      more:\n        ? *l9\n        : 1\n"
        #expect(try failure(Data(text.utf8)) == "input.yaml:10:13: error: anchors and aliases (&l0, *l0) are not allowed; expected the value written out in full")
    }

    /// A tag is a property of its node as an anchor is: `!!seq &l0` anchors the list. The bomb
    /// with a tag before each anchor, its last alias a key, is refused before composing, at
    /// the anchor (composed, the tree check would name the node's position instead).
    @Test func aTaggedAliasBombUsedAsAKeyIsRefusedBeforeComposing() throws {
        for tag in ["!!seq", "!<tag:yaml.org,2002:seq>", "!local"] {
            let text = Self.aliasBomb.replacingOccurrences(of: ": &l", with: ": \(tag) &l") + "      more:\n        ? *l9\n        : 1\n"
            #expect(try failure(Data(text.utf8))
                    == "input.yaml:10:\(14 + tag.count): error: anchors and aliases (&l0, *l0) are not allowed; expected the value written out in full",
                    "tag \(tag)")
        }
    }

    @Test func anAnchorBeforeOrAfterATagIsRefusedAtTheAnchor() throws {
        #expect(try failure(Data("a: &x !!str b\nc: *x\n".utf8)) == "input.yaml:1:4: error: anchors and aliases (&x, *x) are not allowed; expected the value written out in full")
        #expect(try failure(Data("a: !!str &x b\nc: *x\n".utf8)) == "input.yaml:1:10: error: anchors and aliases (&x, *x) are not allowed; expected the value written out in full")
        #expect(try failure(Data("- !!str\n  &x b\n- *x\n".utf8)) == "input.yaml:2:3: error: anchors and aliases (&x, *x) are not allowed; expected the value written out in full")
        #expect(try failure(Data("a: [!!str &x b, *x]\n".utf8)) == "input.yaml:1:11: error: anchors and aliases (&x, *x) are not allowed; expected the value written out in full")
        #expect(try failure(Data("? !<tag:yaml.org,2002:str> &x b\n: *x\n".utf8)) == "input.yaml:1:28: error: anchors and aliases (&x, *x) are not allowed; expected the value written out in full")
    }

    /// What follows a tag starts its node: a quote opens there, and an `&` inside the text is not an anchor.
    @Test func ampersandsAfterATagAreNotAnchors() throws {
        let text = """
            a: !!str A & B
            b: !!str "&quoted: &x"
            c: !<tag:yaml.org,2002:str> x & y
            d: [!!str a&b, !!int 1, !!str "x: &y"]
            e: !!str |
              &text
            f: !!str 'x: &y'
            g: !!str "# x: &y"

            """
        #expect(try failure(Data(text.utf8)) == "composed")
    }

    @Test func aFileLargerThanTheLimitIsRefusedAtItsStart() throws {
        let line = "# " + String(repeating: "x", count: 1021) + "\n"  // 1 KiB
        let atLimit = String(repeating: line, count: YAMLFile.maximumBytes / line.utf8.count - 1) + line.dropLast(6) + "\na: b\n"
        #expect(atLimit.utf8.count == YAMLFile.maximumBytes)
        #expect(try failure(Data(atLimit.utf8)) == "composed")
        #expect(try failure(Data((atLimit + "\n").utf8))
                == "input.yaml:1:1: error: the file is larger than 1048576 bytes (1 MiB), the most a Huaying file may have; expected a smaller file (a long workflow split into workflows that start each other with 'then:')")
    }

    @Test func ampersandsInTextQuotesCommentsAndBlockScalarsAreNotAnchors() throws {
        let text = """
            a: A & B
            b: "&quoted"
            c: 'it''s &fine'
            d: x # &comment
            e: |
              & a line of text
              &another
            f: >-
              &folded
            g: [a&b, "&c"]

            """
        #expect(try failure(Data(text.utf8)) == "composed")
    }

    @Test func nestingDeeperThanTheLimitIsRefusedWhereItGoesTooDeep() throws {
        let depth = YAMLFile.maximumDepth + 5
        let text = "description: " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "\n"
        // The root mapping is level 1, the outermost list level 2: level 33 opens at column 14 + 31.
        #expect(try failure(Data(text.utf8)) == "input.yaml:1:45: error: lists and mappings are nested more than \(YAMLFile.maximumDepth) deep; expected a flatter file")
    }

    @Test func nestingThousandsDeepIsAFindingNotACrash() throws {
        let text = "a: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "\n"
        #expect(try failure(Data(text.utf8)).hasPrefix("input.yaml:1:"))
    }

    @Test func aDeepValueConvertsWithoutRecursion() throws {
        let depth = YAMLFile.maximumDepth - 1
        let file = try YAMLFile(path: "deep.yaml", text: "a: " + String(repeating: "[", count: depth) + "x" + String(repeating: "]", count: depth) + "\n")
        var value = YAMLValue(try #require(file.root?["a"]), in: file)
        var levels = 0
        while let items = value.items {
            levels += 1
            value = items[0]
        }
        #expect(levels == depth && value.string == "x")
    }
}
