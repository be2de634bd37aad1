import BenchSupport

func pad(_ text: String, _ width: Int, right: Bool = true) -> String { TableFormat.pad(text, width, right: right) }
func grouped(_ value: Int) -> String { TableFormat.grouped(value) }
func fixed(_ value: Double, _ decimals: Int) -> String { TableFormat.fixed(value, decimals) }
