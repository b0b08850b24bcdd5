@testable import ParleyStore
import Testing

@Suite struct FullTextPlanTests {
    @Test func wordsBelowTheThresholdAreAskedAsBeforeRarestFirst() {
        let plan = FullTextPlan(terms: ["router", "modem", "reset"], counts: [40, 3, 40], commonAt: 100)
        #expect(plan.steps == [.anyOf(["modem", "router", "reset"])])
    }

    @Test func commonWordsOnlyScoreThePassagesTheRareOnesChoose() {
        let plan = FullTextPlan(terms: ["step", "part", "7", "gasket"], counts: [100, 250, 12, 2], commonAt: 100)
        #expect(plan.steps == [.anyOfScored(selective: ["gasket", "7"], common: ["step", "part"]),
                               .allOf(["step", "part"]), .anyOf(["step", "part"])])
        #expect(FullTextPlan.fts5(plan.steps[0]) == #"("gasket" OR "7") AND ("gasket" OR "7" OR "step" OR "part")"#)
        #expect(FullTextPlan.tsquery(plan.steps[0]) == "(gasket | 7) & (gasket | 7 | step | part)")
    }

    @Test func onlyCommonWordsAskForAllOfThemFirst() {
        let plan = FullTextPlan(terms: ["git", "commit"], counts: [1_000, 1_000])
        #expect(plan.steps == [.allOf(["git", "commit"]), .anyOf(["git", "commit"])])
        #expect(FullTextPlan.fts5(plan.steps[0]) == #""git" AND "commit""#)
        #expect(FullTextPlan.tsquery(plan.steps[0]) == "git & commit")
        #expect(FullTextPlan(terms: ["git"], counts: [5_000]).steps == [.anyOf(["git"])])
    }

    @Test func wordsFoundNowhereAreLeftOut() {
        #expect(FullTextPlan(terms: ["zyzzyva", "router"], counts: [0, 4]).steps == [.anyOf(["router"])])
        #expect(FullTextPlan(terms: ["zyzzyva"], counts: [0]).steps.isEmpty)
        #expect(FullTextPlan(terms: [], counts: []).steps.isEmpty)
        #expect(FullTextPlan(terms: ["zyzzyva", "git"], counts: [0, 1_000]).steps == [.anyOf(["git"])])
    }
}
