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

    @Test func rankingCountsFollowTheQuerysPhrases() {
        let plan = FullTextPlan(terms: ["step", "part", "7", "gasket"], counts: [100, 250, 12, 2], commonAt: 100)
        // ("gasket" OR "7") AND ("gasket" OR "7" OR "step" OR "part"): six phrases; common words at their bound.
        #expect(plan.rankingCounts(plan.steps[0]) == "2,12,2,12,100,100")
        #expect(plan.rankingCounts(.allOf(["step", "part"])) == "100,100")
        #expect(plan.rankingCounts(.anyOf(["7"])) == "12")
    }

    @Test func wordsFoundNowhereAreLeftOut() {
        #expect(FullTextPlan(terms: ["zyzzyva", "router"], counts: [0, 4]).steps == [.anyOf(["router"])])
        #expect(FullTextPlan(terms: ["zyzzyva"], counts: [0]).steps.isEmpty)
        #expect(FullTextPlan(terms: [], counts: []).steps.isEmpty)
        #expect(FullTextPlan(terms: ["zyzzyva", "git"], counts: [0, 1_000]).steps == [.anyOf(["git"])])
    }

    @Test func commonWordsAreCountedOnceAMinute() {
        let counts = WordCounts()
        let start = ContinuousClock.now
        counts.remember(["git", "rebase", "zyzzyva"], [1_000, 40, 0], now: start)
        #expect(counts.known(["git", "rebase", "zyzzyva", "commit"], now: start) == [1_000, nil, nil, nil],
                "only counts worth keeping are kept")
        #expect(counts.known(["git"], now: start + WordCounts.keptFor - .seconds(1)) == [1_000])
        #expect(counts.known(["git"], now: start + WordCounts.keptFor) == [nil], "counted again after a minute")
        for index in 0..<WordCounts.capacity { counts.remember(["word\(index)"], [500], now: start) }
        #expect(counts.known(["git", "word\(WordCounts.capacity - 1)"], now: start) == [nil, 500],
                "all are forgotten when the capacity is reached")
    }
}
