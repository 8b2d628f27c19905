import Testing
import WorkflowModel

@Suite struct TemplateRenderTests {
    @Test func replacesEveryPlaceholderKeepingTheTextAround() {
        let rendered = Template.render("{{unit.name}}：选民名单须在{{ election_day - 20 days }}前公布（{{unit.name}}）") { "<\($0)>" }
        #expect(rendered == "<unit.name>：选民名单须在<election_day - 20 days>前公布（<unit.name>）")
    }

    @Test func textWithoutPlaceholdersOrWithAnUnclosedOneIsUnchanged() {
        #expect(Template.render("无占位符 {x}") { _ in "!" } == "无占位符 {x}")
        #expect(Template.render("坏的 {{unit.name") { _ in "!" } == "坏的 {{unit.name")
    }

    /// Item 4: a step's own deadline and ack-by, written as "最迟于X（周Y，含当日）".
    @Test func deadlinePlaceholdersAreStepBuiltInsWrittenWithTheWeekday() throws {
        #expect(try Template.reference("deadline") == .builtIn("deadline"))
        #expect(try Template.reference("ack_by") == .builtIn("ack_by"))
        #expect(Template.latestDayText(LocalDateTime("2026-09-30T18:00")!) == "2026-09-30 18:00（周三，含当日）")
        #expect(Template.latestDayText(LocalDateTime("2026-10-08T23:59")!) == "2026-10-08（周四，含当日）")
    }
}
