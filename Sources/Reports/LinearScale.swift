/// A linear map from data values to pixels, with "nice" tick values (1, 2
/// or 5 times a power of ten) that cover the data.
struct LinearScale {
    var domainLow: Double
    var domainHigh: Double
    var rangeLow: Double
    var rangeHigh: Double
    var ticks: [Double]
    var step: Double

    /// Ticks around [low, high], about `count` of them; the domain widens to
    /// the outer ticks so that no point sits on the frame.
    init(covering low: Double, _ high: Double, range: (Double, Double), count: Int = 5, includeZero: Bool = false) {
        var low = includeZero ? min(low, 0) : low
        var high = includeZero ? max(high, 0) : high
        if !low.isFinite || !high.isFinite { (low, high) = (0, 1) }
        if high - low <= abs(high) * 1e-9 {
            let pad = high == 0 ? 1 : abs(high) * 0.05
            (low, high) = (includeZero && low >= 0 ? 0 : low - pad, high + pad)
        }
        let step = Self.niceNumber((high - low) / Double(max(count - 1, 1)), round: true)
        let first = (low / step).rounded(.down) * step
        let last = (high / step).rounded(.up) * step
        // Multiples of the step, not a running sum: no drift in the labels.
        let count = min(Int(((last - first) / step).rounded()), 50)
        let ticks = (0...max(count, 0)).map { index in
            let value = first + Double(index) * step
            return abs(value) < step * 1e-9 ? 0 : value
        }
        self.init(domainLow: first, domainHigh: last, rangeLow: range.0, rangeHigh: range.1, ticks: ticks, step: step)
    }

    private init(
        domainLow: Double, domainHigh: Double, rangeLow: Double, rangeHigh: Double, ticks: [Double], step: Double
    ) {
        self.domainLow = domainLow
        self.domainHigh = domainHigh
        self.rangeLow = rangeLow
        self.rangeHigh = rangeHigh
        self.ticks = ticks
        self.step = step
    }

    func callAsFunction(_ value: Double) -> Double {
        let span = domainHigh - domainLow
        guard span > 0 else { return (rangeLow + rangeHigh) / 2 }
        return rangeLow + (value - domainLow) / span * (rangeHigh - rangeLow)
    }

    /// Decimals that tell the ticks apart and no more: a step of 0.05 needs two.
    var tickDecimals: Int {
        guard step > 0, step.isFinite else { return 0 }
        var places = 0
        var scaled = step
        while places < 6, abs(scaled - scaled.rounded()) > 1e-6 * max(1, abs(scaled)) {
            scaled *= 10
            places += 1
        }
        return places
    }

    /// Heckbert's "nice numbers" (Graphics Gems, 1990).
    static func niceNumber(_ value: Double, round: Bool) -> Double {
        guard value > 0, value.isFinite else { return 1 }
        var exponent = 1.0
        var power = 0
        while value / exponent >= 10 {
            exponent *= 10
            power += 1
        }
        while value / exponent < 1 {
            exponent /= 10
            power -= 1
        }
        let fraction = value / exponent
        let nice: Double
        if round {
            nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10
        } else {
            nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
        }
        return nice * exponent
    }
}
