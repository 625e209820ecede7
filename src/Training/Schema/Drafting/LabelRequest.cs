using System.Globalization;
using System.Text.RegularExpressions;

namespace Freshet.Model.Schema.Drafting;

/// <summary>
/// A label as the user asks for it when drafting: <c>click=COLUMN==VALUE</c>, <c>click=COLUMN&gt;=NUMBER</c> or
/// <c>click=COLUMN&gt;NUMBER</c> (or <c>conversion=...</c>). COLUMN is a header name (colons and all), a
/// <c>#index</c>, or a reference as a schema writes it.
/// </summary>
public sealed partial record LabelRequest(string Task, string Column, string Operator, string Value)
{
    public const string Usage = "give TASK=COLUMN==VALUE, TASK=COLUMN>=NUMBER or TASK=COLUMN>NUMBER with TASK click or conversion, e.g. --label click=rating>=4 or --label conversion=is_attributed==1";

    public static LabelRequest Parse(string text)
    {
        var m = Pattern().Match(text);
        if (!m.Success)
        {
            throw new FormatException($"--label '{text}': {Usage}");
        }
        var task = m.Groups["task"].Value;
        if (task is not ("click" or "conversion"))
        {
            throw new FormatException($"--label '{text}': '{task}' is not a label; use click or conversion ({Usage})");
        }
        var op = m.Groups["op"].Value;
        var value = m.Groups["value"].Value.Trim();
        if (value.Length == 0)
        {
            throw new FormatException($"--label '{text}': nothing after '{op}'; {Usage}");
        }
        if (op != "==" && !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
        {
            throw new FormatException($"--label '{text}': '{value}' is not a number; '{op}' compares numbers (use == for a value)");
        }
        return new LabelRequest(task, m.Groups["column"].Value.Trim(), op, value);
    }

    public override string ToString() => $"{Task}={Column}{Operator}{Value}";

    // The column is the shortest text before an operator that leaves a value free of '=' and '>'.
    [GeneratedRegex("^(?<task>[A-Za-z_]+)=(?<column>.+?)(?<op>==|>=|>)(?<value>[^=>]*)$")]
    private static partial Regex Pattern();
}
