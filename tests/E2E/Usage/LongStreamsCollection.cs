namespace WebConsole.E2E.Usage;

/// <summary>
/// Tests that keep a slow decoder generating for seconds (cut and killed streams). They saturate the two cores, so they run
/// on their own, after the parallel collections: their one-second checkpoint bounds, and other classes' timing checks (such
/// as a cancelled generation freeing its allocation), then measure the code rather than the neighbours.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LongStreamsCollection
{
    public const string Name = "long-streams";
}
