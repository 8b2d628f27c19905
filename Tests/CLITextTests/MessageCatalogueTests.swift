import ControlProtocol
import Foundation
import Testing
@testable import huaying

@Suite struct MessageCatalogueTests {
    /// `{1}`, `{2}`, … a text names.
    static func placeholders(_ text: String) -> Set<String> {
        var found: Set<String> = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            let inner = rest[rest.index(after: open)..<close]
            if !inner.isEmpty, inner.allSatisfy(\.isNumber) { found.insert(String(inner)) }
            rest = rest[rest.index(after: close)...]
        }
        return found
    }

    @Test func everyMessageHasChineseAndEnglishWithTheSameArguments() {
        for message in Message.allCases {
            let phrase = Catalogue.phrase(message)
            #expect(!phrase.zh.trimmingCharacters(in: .whitespaces).isEmpty, "\(message) has no Chinese")
            #expect(!phrase.en.trimmingCharacters(in: .whitespaces).isEmpty, "\(message) has no English")
            // English shows the daemon's own (English) message without repeating the code's meaning.
            let omittedInEnglish: Set<String> = message == .refusalReasonTranslated ? ["1"] : []
            #expect(Self.placeholders(phrase.zh) == Self.placeholders(phrase.en).union(omittedInEnglish),
                    "\(message): the languages take different arguments")
        }
    }

    @Test func chineseTextsAreChineseAndEnglishTextsAreNot() {
        let han = { (text: String) in text.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) } }
        // Units and marks that are the same in both languages.
        let shared: Set<Message> = [.headerNumber, .refusalReason, .refusalReasonTranslated, .errorCommand]
        for message in Message.allCases where !shared.contains(message) {
            let phrase = Catalogue.phrase(message)
            #expect(han(phrase.zh), "\(message): the Chinese text has no Chinese: \(phrase.zh)")
            if !Self.chineseTermsInEnglish.contains(message) {
                #expect(!han(phrase.en), "\(message): the English text has Chinese: \(phrase.en)")
            }
        }
    }

    /// English texts that keep the Chinese legal term beside the translation.
    static let chineseTermsInEnglish: Set<Message> = [.dayMakeUpWorkday, .dayHoliday, .headerMakeUpWorkdays,
                                                          .abstractAway, .abstractNudge]

    @Test func everyRefusalCodeHasItsOwnMessage() {
        var seen: [Message: RefusalCode] = [:]
        for code in RefusalCode.allCases {
            guard let message = Catalogue.refusal(code.rawValue) else {
                Issue.record("no message for \(code.rawValue)")
                continue
            }
            #expect(seen[message] == nil, "\(code.rawValue) and \(seen[message]?.rawValue ?? "") share \(message)")
            seen[message] = code
        }
        #expect(Catalogue.refusal("a_code_of_a_newer_daemon") == nil)
    }

    @Test func argumentsArePlacedWhereEachLanguageWantsThem() {
        #expect(Message.startStarted.text(in: .zh, ["7", "election"]) == "已启动 election 的实例 7")
        #expect(Message.startStarted.text(in: .en, ["7", "election"]) == "started instance 7 of election")
    }

    @Test func statesAreTheWordsATownshipOfficerUses() {
        let zh = ["pending": "待办", "waiting": "已提醒", "done": "已完成", "cancelled": "已取消"]
        for (raw, word) in zh { #expect(Catalogue.phrase(Self.stepMessage(raw)).zh == word) }
        #expect(Catalogue.phrase(.reminderAcked).zh == "已确认")
        #expect(Catalogue.phrase(.escalated).zh == "已升级至乡镇")
        #expect(Catalogue.phrase(.overdue).zh == "逾期")
        #expect(Catalogue.phrase(.headerDue).zh == "应办时间")
        #expect(Catalogue.phrase(.headerDeadline).zh == "法定期限")
        #expect(Catalogue.phrase(.headerAckBy).zh == "确认期限")
        #expect(Catalogue.phrase(.headerAckedBy).zh == "经办人")
        #expect(Catalogue.stepState("a-state-of-a-newer-daemon") == "a-state-of-a-newer-daemon")
    }

    static func stepMessage(_ raw: String) -> Message {
        switch raw {
        case "pending": .stepPending
        case "waiting": .stepWaiting
        case "done": .stepDone
        default: .stepCancelled
        }
    }

    @Test func durationsInChineseUseChineseUnits() {
        #expect(TextFormatting.duration(seconds: 3 * 3600 + 12 * 60, language: .zh) == "3小时12分")
        #expect(TextFormatting.duration(seconds: 2 * 86_400 + 4 * 3600, language: .zh) == "2天4小时")
        #expect(TextFormatting.duration(seconds: 45, language: .zh) == "45秒")
        #expect(TextFormatting.duration(seconds: 3 * 3600 + 12 * 60, language: .en) == "3h12m")
    }
}

@Suite struct LanguageTests {
    @Test func aChineseLocaleChoosesChinese() {
        #expect(Language.resolve(environment: ["LANG": "zh_CN.UTF-8"], configured: nil) == .zh)
        #expect(Language.resolve(environment: ["LC_ALL": "zh_TW.UTF-8", "LANG": "en_US.UTF-8"], configured: .en) == .zh)
    }

    @Test func anEnglishLocaleWinsOverTheConfig() {
        #expect(Language.resolve(environment: ["LANG": "en_US.UTF-8"], configured: .zh) == .en)
        #expect(Language.resolve(environment: ["LC_ALL": "en_GB.UTF-8", "LANG": "zh_CN.UTF-8"], configured: nil) == .en)
    }

    @Test func aLocaleNamingNoLanguageLeavesItToTheConfig() {
        #expect(Language.resolve(environment: ["LANG": "C.UTF-8"], configured: .zh) == .zh)
        #expect(Language.resolve(environment: ["LC_ALL": "POSIX"], configured: .zh) == .zh)
        #expect(Language.resolve(environment: [:], configured: .zh) == .zh)
        #expect(Language.resolve(environment: [:], configured: nil) == .en)
    }

    @Test func theConfigNamedByDashDashConfigIsRead() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("huaying-lang-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("huaying.yaml").path
        try "paths:\n  state_dir: s\n  socket: s.sock\n  workflows: w\n  staff: staff.yaml\n  calendars: c\nui:\n  language: zh\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        #expect(Language.configuredLanguage(arguments: ["huaying", "--config", path, "status"]) == .zh)
        #expect(Language.configuredLanguage(arguments: ["huaying", "--config=\(path)", "status"]) == .zh)
    }
}
