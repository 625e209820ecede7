using Freshet.Model.Schema;

namespace Freshet.Model.Tests.Support;

/// <summary>Small schemas for tests, as JSON, so tests exercise the loader too.</summary>
public static class Schemas
{
    /// <summary>A CSV log: time, user, item, category, price, clicked.</summary>
    public const string ClickCsv = """
    {
      "name": "clicks",
      "source": { "format": "delimited", "delimiter": ",", "header": true },
      "time": { "column": "ts", "format": "unix-seconds" },
      "labels": { "click": { "column": "clicked", "equals": "1" } },
      "fields": [
        { "name": "user", "column": "user:token", "kind": "id", "tier": "frozen", "dim": 4 },
        { "name": "item", "column": "item:token", "kind": "id", "tier": "frozen", "dim": 4 },
        { "name": "category", "column": "category", "kind": "id", "tier": "changing", "dim": 3 },
        { "name": "price", "column": "price:float", "kind": "numeric", "transform": "log1p" }
      ],
      "model": { "hidden": [8], "batchSize": 4 }
    }
    """;

    /// <summary>Ids, a bag sharing the item table, a numeric field: the shapes the gather/scatter path handles.</summary>
    public const string GradientCheck = """
    {
      "name": "gradients",
      "source": { "format": "delimited", "delimiter": ",", "header": true },
      "time": { "column": "ts", "format": "unix-seconds" },
      "labels": { "click": { "column": "clicked", "equals": "1" }, "conversion": { "column": "bought", "equals": "1" } },
      "fields": [
        { "name": "user", "column": "user", "kind": "id", "tier": "frozen", "dim": 4 },
        { "name": "item", "column": "item", "kind": "id", "tier": "frozen", "dim": 4 },
        { "name": "history", "column": "history", "kind": "ids", "table": "item", "tier": "frozen", "dim": 4, "maxLength": 5 },
        { "name": "category", "column": "category", "kind": "id", "tier": "changing", "dim": 3 },
        { "name": "price", "column": "price", "kind": "numeric" }
      ],
      "model": { "hidden": [6, 5], "batchSize": 8, "initScale": 0.5 }
    }
    """;

    public static FeatureSchema Parse(string json) => SchemaLoader.Parse(json, "test.json");
}
