#include "discovery/json.h"

#include "gtest/gtest.h"

namespace etcdisc::internal {
namespace {

TEST(JsonTest, ParsesObjectsArraysAndScalars) {
  auto v = ParseJson(R"( {"a": [1, -2.5e3, true, false, null], "b": {"c": "d"}} )");
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_EQ(v->type, JsonValue::Type::kObject);
  const JsonValue* a = v->Find("a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->items.size(), 5u);
  EXPECT_EQ(a->items[1].text, "-2.5e3");
  EXPECT_TRUE(a->items[2].boolean);
  EXPECT_EQ(a->items[4].type, JsonValue::Type::kNull);
  EXPECT_EQ(v->Find("b")->Find("c")->text, "d");
  EXPECT_EQ(v->Find("missing"), nullptr);
}

TEST(JsonTest, DecodesEscapesAndSurrogatePairs) {
  auto v = ParseJson(R"("q\" b\\ s\/ \n\t \u00e9 \ud83d\ude00 \u003c")");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->text, "q\" b\\ s/ \n\t \xc3\xa9 \xf0\x9f\x98\x80 <");
}

TEST(JsonTest, LastRepeatedKeyWins) {
  auto v = ParseJson(R"({"k": "1", "k": "2"})");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->Find("k")->text, "2");
}

TEST(JsonTest, RejectsMalformedInput) {
  for (const char* bad :
       {"", "{", "{\"a\"}", "{\"a\":}", "[1,]", "\"open", "tru", "01x",
        "{\"a\":1} trailing", "\"\\x\"", "\"\\u12\"", "{a:1}", "-", "1.",
        "\"ctl\x01\""}) {
    EXPECT_FALSE(ParseJson(bad).ok()) << bad;
  }
}

TEST(JsonTest, RefusesDeepNesting) {
  EXPECT_FALSE(ParseJson(std::string(1000, '[')).ok());
  EXPECT_TRUE(ParseJson(std::string(30, '[') + std::string(30, ']')).ok());
}

TEST(JsonTest, WritesStringsAsGoDoes) {
  std::string out;
  AppendJsonString(&out, "a\"b\\c\n<x>&\x01 \xe2\x80\xa8 \xff");
  EXPECT_EQ(out,
            "\"a\\\"b\\\\c\\n\\u003cx\\u003e\\u0026\\u0001 \\u2028 \\ufffd\"");
}

}  // namespace
}  // namespace etcdisc::internal
