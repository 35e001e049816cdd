#include "schema/article.h"

#include <nlohmann/json.hpp>

namespace mssearch {

nlohmann::json to_stored_json(const Article& a) {
  nlohmann::json sections = nlohmann::json::array();
  for (const auto& s : a.sections) sections.push_back({{"heading", s.heading}, {"text", s.text}});
  nlohmann::json j = {
      {"id", a.id},           {"title", a.title},     {"date", a.date},
      {"topics", a.topics},   {"journal", a.journal}, {"takeaway", a.takeaway},
      {"url", a.url},         {"sections", sections}, {"source", a.source},
  };
  if (a.credibility) j["credibility"] = *a.credibility;
  if (a.interest) j["interest"] = *a.interest;
  return j;
}

Article from_stored_json(const nlohmann::json& j) {
  Article a;
  a.id = j.value("id", "");
  a.title = j.value("title", "");
  a.date = j.value("date", "");
  a.topics = j.value("topics", std::vector<std::string>{});
  a.journal = j.value("journal", "");
  a.takeaway = j.value("takeaway", "");
  a.url = j.value("url", "");
  a.source = j.value("source", "");
  if (j.contains("credibility")) a.credibility = j["credibility"].get<int>();
  if (j.contains("interest")) a.interest = j["interest"].get<int>();
  for (const auto& s : j.value("sections", nlohmann::json::array())) {
    a.sections.push_back({s.value("heading", ""), s.value("text", "")});
    if (!a.body_text.empty()) a.body_text += "\n\n";
    a.body_text += a.sections.back().text;
  }
  return a;
}

std::string encode_stored(const Article& article) {
  std::string out;
  nlohmann::json::to_msgpack(to_stored_json(article), out);
  return out;
}

Article decode_stored(const std::string& data) {
  if (!data.empty() && data.front() == '{') return from_stored_json(nlohmann::json::parse(data));
  return from_stored_json(nlohmann::json::from_msgpack(data));
}

}  // namespace mssearch
