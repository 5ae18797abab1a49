# Included by CTest after the test lists: the longest tests start first
# (CTest starts higher COST first), so that a parallel run does not end with
# one of them running alone. Each COST is the test's time in seconds in a
# plain build; CTest ranks every other test by its own measured time once the
# build directory has run, and these stay on the same scale.
set(long_tests
  CliClusterTest.OfTwoProcessesJoiningUnderOneIdExactlyOneWinsEveryRound 38
  ConsumerTest.ProjectsBuiltAgainstTheInstalledEtcdiscRegisterAndFind 35
  StormTest.RegistrarsStartedAtOnceNeitherLoseTheirLeaseNorFlap 22
  LeaseKeeperTest.LeaseThatEtcdKeptThroughAnOutageIsNotReportedLost 15
  FleetServeTest.BadRequestsGetJsonErrorsAndTheServerGoesOn 14
  FailoverTest.WatchMovesOffAPausedMember 12
  FailoverTest.KillingTheLeaderKeepsWatchesAndLeasesGoing 12
  FleetTest.AStoppedHostIsOfflineSinceItWentThenForgottenAfterItsRetention 11)
while(long_tests)
  list(POP_FRONT long_tests test seconds)
  set_tests_properties(${test} PROPERTIES COST ${seconds})
endwhile()
