import ParleyCore
import Testing

@Suite struct CivilDateTests {
    @Test func daysAndDatesRoundTripOverCenturies() {
        for days in stride(from: Int64(-800_000), through: 800_000, by: 997) {
            let date = CivilDate(daysSince1970: days)
            #expect(date.daysSince1970 == days, "\(days) → \(date)")
        }
        #expect(CivilDate(daysSince1970: 0) == CivilDate(year: 1970, month: 1, day: 1))
        #expect(CivilDate(daysSince1970: 11_016) == CivilDate(year: 2000, month: 2, day: 29))
        #expect(CivilDate(year: 2026, month: 12, day: 3).nextMonth == CivilDate(year: 2027, month: 1, day: 1))
    }
}
