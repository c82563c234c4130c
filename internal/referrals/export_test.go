package referrals

// SetSearchCountCap lowers the number of matches a search collects and counts, so that a test
// reaches the path past the cap with a few cases. It returns the function that restores it.
func SetSearchCountCap(n int) (restore func()) {
	old := searchCountCap
	searchCountCap = n
	return func() { searchCountCap = old }
}
