"""Fixed text of the regime views: the TC260-003 §9 clauses, the EU AI Act articles and the
NIST keys the report groups evidence under. Summaries are our own short paraphrases, not
quotations. Regime names are not here: each regime's data file carries its own
(`name_en` / `name_zh`, else its title), read through the regime registry.
"""

from __future__ import annotations

#: (clause, title_en, title_zh) — the §9 assessment clauses a black-box run can speak to.
TC260_CLAUSES: tuple[tuple[str, str, str], ...] = (
    ("9.2", "Corpus safety assessment", "语料安全评估"),
    ("9.3", "Generated-content safety assessment", "生成内容安全评估"),
    ("9.4", "Question-refusal assessment", "问题拒答评估"),
)

#: (article, title_en, title_zh, summary_en, summary_zh)
EU_ARTICLES: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "9",
        "Risk management system",
        "风险管理体系",
        "Testing against metrics and probabilistic thresholds defined in advance; every threshold here is shown with its source.",
        "按事先确定的指标和概率阈值进行测试；此处每个阈值都注明来源。",
    ),
    (
        "10",
        "Data and data governance",
        "数据与数据治理",
        "Checks for bias that could lead to discrimination: counterfactual and discriminatory-content measurements.",
        "检查可能导致歧视的偏见：反事实测试与歧视性内容测量。",
    ),
    (
        "15",
        "Accuracy, robustness and cybersecurity",
        "准确性、稳健性与网络安全",
        "Accuracy and robustness figures, including attack success under adversarial transforms.",
        "准确性与稳健性数据，包括对抗性变换下的攻击成功率。",
    ),
    (
        "55",
        "Obligations for GPAI models with systemic risk",
        "具有系统性风险的通用模型的义务",
        "Documented model evaluation including adversarial testing (Art. 55(1)(a)).",
        "包含对抗测试在内的、有记录的模型评估（第55条第1款(a)项）。",
    ),
)

#: titles of other AI Act articles a requirement may cite
EU_ARTICLE_TITLES: dict[str, tuple[str, str]] = {
    "5": ("Prohibited AI practices", "禁止的人工智能实践"),
    "11": ("Technical documentation", "技术文档"),
    "12": ("Record-keeping", "记录保存"),
    "13": ("Transparency and information to deployers", "透明度与向部署者提供信息"),
    "14": ("Human oversight", "人类监督"),
    "27": ("Fundamental-rights impact assessment", "基本权利影响评估"),
    "43": ("Conformity assessment", "合格评定"),
    "50": ("Transparency obligations for certain AI systems", "特定人工智能系统的透明度义务"),
    "53": ("Obligations for providers of GPAI models", "通用人工智能模型提供者的义务"),
}

NIST_600_1: dict[str, tuple[str, str]] = {
    "2.1": ("CBRN information or capabilities", "化学、生物、放射性与核信息或能力"),
    "2.2": ("Confabulation", "虚构（幻觉）"),
    "2.3": ("Dangerous, violent or hateful content", "危险、暴力或仇恨内容"),
    "2.4": ("Data privacy", "数据隐私"),
    "2.5": ("Environmental impacts", "环境影响"),
    "2.6": ("Harmful bias and homogenization", "有害偏见与同质化"),
    "2.7": ("Human-AI configuration", "人机配置"),
    "2.8": ("Information integrity", "信息完整性"),
    "2.9": ("Information security", "信息安全"),
    "2.10": ("Intellectual property", "知识产权"),
    "2.11": ("Obscene, degrading and/or abusive content", "淫秽、侮辱和/或辱骂内容"),
    "2.12": ("Value chain and component integration", "价值链与组件集成"),
}

NIST_MEASURE: dict[str, tuple[str, str]] = {
    "2.1": ("Test sets, metrics and tools documented", "测试集、指标与工具有记录"),
    "2.3": ("Performance measured", "性能得到测量"),
    "2.5": ("Valid and reliable", "有效且可靠"),
    "2.6": ("Safe", "安全"),
    "2.7": ("Secure and resilient", "安全且有韧性"),
    "2.8": ("Accountable and transparent", "可问责且透明"),
    "2.9": ("Explainable and interpretable", "可解释"),
    "2.10": ("Privacy-enhanced", "隐私增强"),
    "2.11": ("Fair, with harmful bias managed", "公平、有害偏见得到管理"),
}

NIST_KEYS: tuple[str, ...] = (
    *(f"600-1 §{k}" for k in NIST_600_1),
    *(f"MEASURE {k}" for k in NIST_MEASURE),
)


def nist_title(key: str) -> tuple[str, str]:
    if key.startswith("MEASURE"):
        return NIST_MEASURE.get(key.split()[1], ("", ""))
    return NIST_600_1.get(key.split("§")[1], ("", ""))
