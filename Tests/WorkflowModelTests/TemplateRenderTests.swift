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
}
