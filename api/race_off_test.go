//go:build !race

package api_test

// raceDetector: the tests are built with -race (the recogniser's pixel
// loops run about ten times slower).
const raceDetector = false
