// ShoalTesting: what an application's test target imports to test its
// handlers by replay. It brings Shoal's replay types along.
@_exported import Shoal
