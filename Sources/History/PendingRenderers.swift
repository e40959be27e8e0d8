public func renderHTMLReport(_ outcome: NightlyOutcome) -> String { "" }
public func renderPrometheusTextfile(_ outcome: NightlyOutcome) -> String { "" }
