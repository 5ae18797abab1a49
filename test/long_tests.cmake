# Included by CTest after the test lists: the longest tests, measured in a
# plain build, start first (CTest starts higher COST first), so that a
# parallel run does not end with one of them running alone. CTest keeps its
# own measurements once a build directory has run; these cover the first run
# of a fresh one, as in scripts/test.sh.
foreach(test IN ITEMS
    CliClusterTest.OfTwoProcessesJoiningUnderOneIdExactlyOneWinsEveryRound
    ConsumerTest.ProjectsBuiltAgainstTheInstalledEtcdiscRegisterAndFind
    StormTest.RegistrarsStartedAtOnceNeitherLoseTheirLeaseNorFlap
    LeaseKeeperTest.LeaseThatEtcdKeptThroughAnOutageIsNotReportedLost
    FleetServeTest.BadRequestsGetJsonErrorsAndTheServerGoesOn
    FailoverTest.WatchMovesOffAPausedMember
    FailoverTest.KillingTheLeaderKeepsWatchesAndLeasesGoing
    FleetTest.AStoppedHostIsOfflineSinceItWentThenForgottenAfterItsRetention)
  set_tests_properties(${test} PROPERTIES COST 100)
endforeach()
