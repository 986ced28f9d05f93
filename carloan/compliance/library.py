"""The library of sensitive-phrase categories (contract section 9): what marketing may not say,
how it is recognised in Chinese and English, how bad it is, what to say instead, and the live
parameter it relates to.

Patterns are regular expressions over folded text (`text.fold`: full-width characters folded,
lower case). `{N}` in a pattern stands for a number, in digits or in Chinese numerals. Four
categories also read numbers against the live parameters (`checker`): a down payment, a loan
share of the car's value, a discount, and a monthly or daily rate quoted without its annual rate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from carloan.compliance.text import NUMBER

HIGH, MEDIUM = "high", "medium"


@dataclass(frozen=True)
class Category:
    key: str
    severity: str
    not_allowed_en: str
    not_allowed_zh: str
    suggestion_en: str
    suggestion_zh: str
    patterns: tuple[str, ...]
    parameter: str | None = None
    compiled: tuple[re.Pattern[str], ...] = field(default=(), compare=False, repr=False)


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern.replace("{N}", NUMBER))


def _category(
    key: str,
    severity: str,
    not_allowed: tuple[str, str],
    suggestion: tuple[str, str],
    patterns: tuple[str, ...],
    parameter: str | None = None,
) -> Category:
    return Category(
        key,
        severity,
        not_allowed[0],
        not_allowed[1],
        suggestion[0],
        suggestion[1],
        patterns,
        parameter,
        tuple(_compile(p) for p in patterns),
    )


_BASE: tuple[Category, ...] = (
    _category(
        "guaranteed_approval",
        HIGH,
        ("promising approval", "承诺审批通过"),
        (
            "Approval depends on the credit review; we will tell you the result as soon as we have it.",
            "能否获批以审核结果为准，我们会第一时间告知您。",
        ),
        (
            r"(百分之百|百分百|100%|一百个|包|稳|保|肯定|绝对|一定|铁定)\s*(能|可以|会)?\s*(包过|通过|获批|批下来|下款|能批|过件)",
            r"包(过|批|下款|通过|放款)",
            r"稳(过|批|下)",
            r"(保证|确保|承诺|担保)\s*(您|你)?\s*(一定|肯定|百分百|能|可以)?\s*(通过|获批|批|下款|过)",
            r"(零|0)\s*拒(绝|批)",
            r"没有\s*(不|拒)批的",
            r"(无论|不管)[^，。,.!?！？]{0,12}(都|也)\s*(能|可以|会)?\s*(批|通过|过)",
            r"guarantee[ds]?\s+(your\s+|you\s+|an?\s+|the\s+)?(loan\s+)?approv",
            r"(approval|approved)\s+(is\s+)?(guaranteed|assured|certain|a\s+sure\s+thing|100%)",
            r"100%\s+(approval|approved|guaranteed)",
            r"(everyone|anyone|anybody)\s+(gets|is|will\s+be)\s+approved",
            r"(you('re|\s+are|\s+will\s+be)|you'll\s+be)\s+(pre-?)?approved\s+(no\s+matter|regardless|whatever|for\s+sure|100%)",
            r"(can't|cannot|won't|will\s+not)\s+be\s+(turned\s+down|declined|rejected)",
            r"no\s+one\s+(gets|is)\s+(turned\s+down|declined|rejected)",
            r"sure\s+(thing|bet)\s+(to\s+)?(get\s+)?approv",
        ),
    ),
    _category(
        "no_credit_check",
        HIGH,
        ("promising no credit-bureau check", "承诺不查征信"),
        (
            "Every application is checked with the credit bureau, with your consent.",
            "所有申请都会在您授权后查询征信。",
        ),
        (
            r"(不|无需|不用|不需要|免)\s*(查|看|上|核查|查询)\s*(征信|信用报告|人行|央行|信用记录)",
            r"征信\s*(不好|花了?|黑了?|差|有问题|逾期)?\s*(也|都)\s*(能|可以|没关系|没事|不影响|照样)",
            r"(黑户|白户|征信黑)\s*(也|都)\s*(能|可以)",
            r"不上征信",
            r"no\s+credit\s+(check|checks|history\s+check|bureau\s+check)",
            r"(without|won't|will\s+not|don't|do\s+not|never)\s+(a\s+|any\s+)?(run\s+|do\s+|pull\s+|check\s+)?(a\s+)?(your\s+)?credit\s+(check|report|history|score)",
            r"(bad|poor|no)\s+credit\s+(is\s+)?(ok|okay|fine|no\s+problem|doesn't\s+matter|welcome)",
            r"credit\s+(score|history)\s+(doesn't|does\s+not|won't)\s+matter",
            r"(skip|bypass)\s+(the\s+)?credit\s+(check|bureau)",
        ),
    ),
    _category(
        "zero_down_payment",
        HIGH,
        ("no or too little down payment", "零首付或首付过低"),
        (
            "The down payment is at least the share the loan-to-value limit requires.",
            "首付比例不低于贷款价值比上限所要求的比例。",
        ),
        (
            r"(零|0|无|免|不要|不用|不需要|没有)\s*首付",
            r"首付\s*(全免|免了|都不用|也不用|不用付|为零|是零|0元|零元)",
            r"(zero|no|0|\$0|nothing)\s*(-\s*)?(money\s+)?down(\s+payment)?\b",
            r"no\s+(deposit|down\s*payment)\s+(needed|required|necessary)",
            r"drive\s+(it\s+)?(away|off|home)\s+(for|with)\s+(nothing|zero|no\s+money)",
        ),
        "risk.max_ltv_pct",
    ),
    _category(
        "misleading_zero_interest",
        MEDIUM,
        (
            '"free" or zero interest while fees or interest apply',
            "宣称零利息或免息而实际收取利息或费用",
        ),
        (
            "State the annual rate (APR) and every fee.",
            "请说明年化利率及全部费用。",
        ),
        (
            r"(零|0)\s*(利息|利率|息)",
            r"(免|不收|没有|无)\s*(利息|息)",
            r"免息",
            r"(interest|rate)\s*-?\s*free",
            r"(zero|no|0)\s*(%\s*)?(interest|apr)",
            r"0%\s+(interest|apr|financing|rate)",
            r"(won't|don't|never)\s+(pay|be\s+charged)\s+(any\s+)?interest",
            r"free\s+(loan|financing|credit)",
        ),
    ),
    _category(
        "hidden_fees",
        HIGH,
        ("denying fees that exist", "否认存在的费用"),
        (
            "List every fee: service, GPS, registration, insurance.",
            "如实列明所有费用：服务费、GPS 费、登记费、保险费等。",
        ),
        (
            r"(没有|无|不收|免|零)\s*(任何|一分|其他|其它|额外)?\s*(手续费|服务费|费用|杂费|额外费用|附加费)",
            r"(一分钱|一分)\s*(费用|手续费)?\s*(都|也)?\s*不(收|要)",
            r"(全程|全部)\s*(免费|零费用)",
            r"no\s+(fees?|charges?|costs?)\s+(at\s+all|whatsoever|of\s+any\s+kind)",
            r"no\s+(hidden\s+|extra\s+|other\s+|additional\s+)?(fees?|charges?)\s+(at\s+all|whatsoever|ever)",
            r"(zero|no)\s+(processing|service|handling|admin(istration)?)\s+(fees?|charges?)",
            r"(won't|don't|never)\s+(pay|be\s+charged)\s+(a\s+)?(single\s+)?(cent|penny|dime|fee)",
            r"(completely|totally|100%)\s+free\s+of\s+(charge|fees)",
            r"without\s+any\s+(fees?|charges?)",
        ),
    ),
    _category(
        "rate_without_apr",
        MEDIUM,
        ("a monthly or daily rate without the annual rate (APR)", "只说月息或日息而不说年化利率"),
        (
            "Quote the annual rate (APR) with any monthly or daily figure.",
            "提及月息或日息时，须同时说明年化利率。",
        ),
        (),  # read by the checker: a monthly or daily rate, and no annual rate in the text
    ),
    _category(
        "instant_disbursement",
        MEDIUM,
        ("promising approval or money within minutes", "承诺秒批或极速放款"),
        (
            "Say how long review and payout usually take, without promising a time.",
            "说明审核和放款的一般时效，不承诺具体时间。",
        ),
        (
            r"秒(批|过|放|到账|下款|审)",
            r"(当场|立即|马上|立刻|即刻)\s*(批|放款|下款|到账|审批通过)",
            r"{N}\s*(分钟|秒)\s*(内|之内)?\s*(就)?\s*(批|放款|下款|到账|审批|出结果|通过)",
            r"(极速|闪电)\s*(放款|下款|审批|到账)",
            r"(approved|approval|funded|funds?|money|cash|payout)\s+(in|within)\s+(seconds|minutes|{N}\s*(seconds?|minutes?|mins?))",
            r"(instant|immediate)\s+(approval|funding|payout|cash|money|disbursement)",
            r"(approve|fund)\s+you\s+(instantly|immediately|on\s+the\s+spot|right\s+away)",
            r"money\s+in\s+your\s+account\s+(in|within)\s+(minutes|seconds|{N}\s*min)",
        ),
    ),
    _category(
        "excess_loan_amount",
        HIGH,
        (
            "lending above the car's value or the loan-to-value limit",
            "贷款额超过车辆价值或贷款价值比上限",
        ),
        (
            "The loan is at most the loan-to-value limit of the appraised value.",
            "贷款金额不超过评估价值乘以贷款价值比上限。",
        ),
        (
            r"车值多少\s*(就)?\s*贷多少",
            r"(全款|车价|车款)\s*(全|都)\s*(能|可以)\s*贷",
            r"(贷|借)\s*(得)?\s*(比|超过|高于)\s*(车价|车值|车的价值)",
            r"(贷|借)\s*(车价|全款)\s*(的)?\s*(全部|全额|100%)",
            r"(borrow|lend|loan|finance)\s+(you\s+)?(more\s+than|above|over)\s+(what\s+)?(the\s+)?(car|vehicle)('s)?\s+(is\s+worth|value|price)",
            r"(finance|borrow|cover)\s+(the\s+)?(full|entire|whole)\s+(price|value|amount)\s*(of\s+the\s+(car|vehicle))?\s*(and\s+more|plus)",
            r"(cash\s+out|extra\s+cash)\s+(on\s+top|above|over)\s+(of\s+)?(the\s+)?(car|vehicle)",
        ),
        "risk.max_ltv_pct",
    ),
    _category(
        "lien_misrepresentation",
        HIGH,
        ("hiding the mortgage or GPS the loan puts on the car", "隐瞒车辆抵押登记或加装 GPS"),
        (
            "Say that the car is mortgaged to the lender (and fitted with GPS) until the loan is repaid.",
            "说明贷款期间车辆需办理抵押登记（并安装 GPS），还清后解除。",
        ),
        (
            r"不\s*(押车|押证|押登记证|押绿本|抵押)",
            r"(不用|不需要|无需|不|免)\s*(办理)?\s*(抵押|押车|押证|装gps|安装gps|装定位|押绿本|登记抵押)",
            r"(没有|无)\s*(抵押|gps|定位器)",
            r"(车|车辆)\s*(还是|完全|百分百)?\s*(归你|是你的)\s*[，,]?\s*(不用|不|没有)?\s*(抵押)?",
            r"no\s+(lien|mortgage|gps|tracker|tracking\s+device)\s+(on|in)\s+(your|the)\s+(car|vehicle)",
            r"(we\s+)?(won't|don't|never|will\s+not|do\s+not)\s+(put|place|register|hold)\s+(a\s+|any\s+)?(lien|mortgage|gps|tracker)",
            r"(keep|hold)\s+(your\s+)?(title|registration|pink\s+slip)\s+(free|clear)",
            r"(car|title)\s+(stays|remains)\s+(100%\s+)?(yours|in\s+your\s+name)\s*(,|with)?\s*no\s+(lien|strings)",
        ),
    ),
    _category(
        "official_impersonation",
        HIGH,
        ("posing as a bank, government or subsidy programme", "冒充银行、政府或补贴项目"),
        (
            "Name the lender as it is; mention a public programme only where it truly applies.",
            "如实说明放款机构名称；确有政策时才可提及并说明来源。",
        ),
        (
            r"(国家|政府|政策性|官方|央行|银保监|人民银行)\s*(补贴|扶持|贴息|专项|指定|批准的?)?\s*(贷款|车贷|项目|额度|资金)",
            r"(国家|政府)\s*(补贴|扶持|贴息)",
            r"我们是\s*(银行|工商银行|建设银行|农业银行|中国银行|政府)",
            r"(银行|政府)\s*(官方|直属|直营)",
            r"(official|government|federal|state)[-\s]+(backed|sponsored|subsidi[sz]ed|approved|endorsed)?\s*(loan|programme|program|scheme|subsidy|grant)",
            r"(we\s+are|we're|this\s+is)\s+(calling\s+from\s+)?(the\s+)?(bank\s+of\s+china|icbc|your\s+bank|the\s+government|a\s+government)",
            r"on\s+behalf\s+of\s+(the\s+)?(government|central\s+bank|ministry)",
        ),
    ),
    _category(
        "pressure_tactics",
        MEDIUM,
        ("false urgency", "制造虚假紧迫感"),
        (
            "Give the real end of an offer, and time to decide.",
            "说明优惠的真实截止时间，给客户充分考虑时间。",
        ),
        (
            r"(仅限|只限|只有|限)\s*(今天|今日|当天|今晚|本周|这周|{N}\s*(小时|天))",
            r"(过了|错过)\s*(今天|今晚|这个村|这次)\s*(就)?\s*(没有|没了|不再|再也)",
            r"(最后|仅剩|只剩)\s*{N}\s*(个|名|台)\s*(名额|指标)?",
            r"(马上|赶紧|立刻|现在)\s*(签|下单|办理|定下来)\s*[，,]?\s*(否则|不然|要不然)",
            r"名额\s*(有限|不多|快没了|马上就没)",
            r"today\s+only",
            r"(only|just)\s+(today|tonight|{N}\s+(hours?|days?)\s+left)",
            r"(offer|deal|price)\s+(ends|expires|is\s+gone|won't\s+last)\s+(today|tonight|in\s+{N}\s+(hours?|minutes?))",
            r"(last|only)\s+({N}|one|two|three)\s+(spots?|slots?|places?)\s+(left|remaining)",
            r"(sign|decide|act)\s+(now|right\s+now|today)\s+or\s+(you('ll)?\s+)?(lose|miss)",
            r"(don't|do\s+not)\s+miss\s+out[^.!?]{0,30}(today|now|tonight)",
        ),
    ),
    _category(
        "loan_to_repay_loans",
        HIGH,
        ("borrowing to repay other debts", "诱导以贷养贷"),
        (
            "The loan is for the car; do not suggest it for paying other debts.",
            "贷款仅用于购车，不引导客户用于偿还其他债务。",
        ),
        (
            r"以贷养贷",
            r"(拿|用)\s*(这笔|贷款|这个)?\s*(钱|款|贷款)?\s*(去|来)?\s*(还|还清|偿还|填)\s*(信用卡|网贷|花呗|借呗|其他贷款|别的贷款|欠款|债)",
            r"(顺便|还能|多贷)\s*[^，。]{0,6}(还|还清)\s*(信用卡|网贷|花呗|欠款)",
            r"(pay\s+off|repay|clear|consolidate)\s+(your\s+)?(other\s+)?(credit\s+cards?|debts?|loans?|payday\s+loans?)\s+(with|using)\s+(this|the)\s+(loan|money|cash)",
            r"(use|put)\s+(it|the\s+(money|loan|cash|extra))\s+(to|towards|toward)\s+(pay(ing)?\s+off|clear(ing)?|repay(ing)?)\s+(your\s+)?(credit\s+cards?|debts?|other\s+loans?)",
            r"borrow\s+(more\s+)?to\s+(pay|repay)\s+(off\s+)?(your\s+)?(other\s+)?(debts?|loans?|cards?)",
        ),
    ),
    _category(
        "ineligible_borrowers",
        HIGH,
        ("inviting students or people without income", "诱导学生或无收入人群借款"),
        (
            "Applicants need a stable income and must be of age; we do not lend to students.",
            "申请人须成年并有稳定收入，不向在校学生放款。",
        ),
        (
            r"(学生|在校生|大学生|无业|没工作|没有工作|无收入|没收入|没有收入)\s*(也|都)\s*(能|可以|可)\s*(贷|办|借|申请)",
            r"(不看|不要|无需|不需要|不用)\s*(收入|工作|流水|收入证明)",
            r"(没有|无)\s*(收入|工作)\s*(也)?\s*(没关系|没事|不要紧|不影响)",
            r"no\s+(income|job|employment|proof\s+of\s+income)\s+(needed|required|necessary|no\s+problem|is\s+fine|ok)",
            r"(students?|unemployed|jobless)\s+(can|are\s+welcome\s+to|may)\s+(apply|borrow|get)",
            r"(even\s+)?(students?|unemployed|without\s+a\s+job)\s+(are\s+)?(welcome|eligible|ok|fine)",
            r"(doesn't|does\s+not|don't)\s+matter\s+if\s+you\s+(have\s+no|don't\s+have\s+(a|an))\s+(job|income)",
        ),
    ),
    _category(
        "credential_request",
        HIGH,
        ("asking for passwords or verification codes", "索要密码或验证码"),
        (
            "Never ask for a password or code: the customer enters it in the app themself.",
            "绝不索要密码或验证码，由客户本人在应用中输入。",
        ),
        (
            r"(?:(?:把|将)\s*)?(?:手机\s*)?(验证码|动态码|校验码|密码|支付密码|银行卡密码|短信码)\s*(告诉|报|发|念|读)\s*(给)?\s*(我|我们)",
            r"(告诉|报|发|念|读)\s*(给)?\s*(我|我们)\s*(一下)?\s*(你的|您的)?\s*(手机)?\s*(验证码|动态码|密码|短信码)",
            r"(你的|您的)\s*(银行卡|支付|登录)?\s*(密码|验证码)\s*(是多少|多少)",
            r"(tell|give|send|read|text)\s+(me|us)\s+(back\s+)?(the|your|that)?\s*(\w+\s+)?(verification\s+|sms\s+|one-time\s+|otp\s+|security\s+)?(code|password|pin|otp)",
            r"what('s|\s+is)\s+(the|your)\s+(verification\s+|sms\s+|one-time\s+)?(code|password|pin|otp)",
            r"(need|want)\s+(your|the)\s+(bank\s+)?(password|pin|verification\s+code|otp)",
            r"ask\s+(you\s+)?for\s+(your|the)\s+(verification\s+|sms\s+)?(code|password|pin|otp)",
        ),
    ),
    _category(
        "early_repayment_misleading",
        MEDIUM,
        ('"repay early anytime for free" where a fee applies', "宣称提前还款无违约金而实际收取"),
        (
            "State the early-repayment fee as the contract sets it.",
            "按合同如实说明提前还款违约金。",
        ),
        (
            r"(随时|任何时候|想什么时候)\s*(都)?\s*(可以)?\s*提前还款\s*[，,]?\s*(不收|无|没有|免|零)\s*(任何)?\s*(违约金|手续费|费用)",
            r"提前还款\s*(不收|无|没有|免|零)\s*(任何)?\s*(违约金|手续费|费用|罚金)",
            r"提前还\s*(完全)?\s*免费",
            r"(repay|pay\s+(it\s+)?off|settle|pay\s+back)\s+(it\s+|the\s+loan\s+)?(early|ahead\s+of\s+time)\s*,?\s*(any\s*time|whenever(\s+you\s+(like|want))?)?\s*,?\s*(for\s+free|free(\s+of\s+charge)?|at\s+no\s+(cost|charge)|without\s+(any\s+)?(fees?|penalt(y|ies)|charges?))",
            r"no\s+(early\s+repayment|prepayment|early\s+payoff|early\s+settlement)\s+(fees?|penalt(y|ies)|charges?)",
            r"(early\s+repayment|prepayment)\s+is\s+(always\s+)?free",
        ),
    ),
    _category(
        "collection_threats",
        HIGH,
        ("threats, contacting family or employer, jail", "威胁、骚扰亲友或单位、以坐牢相威胁"),
        (
            "Remind of the amount and date due, and the legal consequences, without threats.",
            "提醒到期金额、日期及依法后果，不得威胁恐吓。",
        ),
        (
            r"(不还|不还钱|不还款|逾期|拖欠)[^。！？!?]{0,10}(就)?\s*(通知|告诉|打给|联系|找)\s*(你的?)?\s*(家人|父母|老婆|老公|亲戚|朋友|单位|领导|同事|公司)",
            r"(爆|曝光)\s*(你的?)?\s*(通讯录|家人|单位)",
            r"(坐牢|抓你|抓起来|蹲监狱|判刑|上门)",
            r"(让你|叫你)\s*(好看|身败名裂|后悔)",
            r"(call|tell|contact|inform|visit)\s+(your\s+)?(family|parents|wife|husband|relatives|boss|employer|colleagues|friends|neighbou?rs)",
            r"(go|send\s+you)\s+to\s+(jail|prison)",
            r"(you('ll|\s+will)\s+)?(be\s+)?(arrested|jailed|locked\s+up)",
            r"we\s+know\s+where\s+you\s+(live|work)",
            r"(you('ll|\s+will)\s+)?regret\s+(it|this)",
        ),
    ),
    _category(
        "insurance_tying",
        MEDIUM,
        ("requiring the lender's insurance or add-ons", "捆绑销售保险或附加产品"),
        (
            "Insurance is required, but the customer may choose the insurer.",
            "车辆须投保，但客户可自主选择保险公司。",
        ),
        (
            r"(必须|一定要|得|只能)\s*(在我们这|在我们这里|跟我们|找我们|通过我们)?\s*(买|购买|上|办|投保)\s*(我们的?|我们指定的?|指定的?)\s*(保险|车险|延保|套餐|增值服务|gps)",
            r"(不买|不上|不办)\s*(我们的?)?\s*(保险|车险|延保|套餐)\s*(就)?\s*(不|没法|无法)\s*(批|放款|贷|办)",
            r"(保险|车险|延保)\s*(必须|只能)\s*(在|从|通过)\s*(我们|本公司)",
            r"(you\s+)?(must|have\s+to|need\s+to|are\s+required\s+to)\s+(buy|purchase|take\s+out|get)\s+(our|the\s+dealer's|our\s+own)\s+(insurance|warranty|add-?ons?|package|gps)",
            r"(insurance|warranty|add-?ons?)\s+(must|has\s+to|have\s+to)\s+(be\s+)?(bought|purchased)\s+(from|through|with)\s+us",
            r"(no|without)\s+(our\s+)?(insurance|warranty|package),?\s+no\s+(loan|approval)",
            r"only\s+(approve|lend)\s+(if|when)\s+you\s+(buy|take)\s+our\s+(insurance|warranty)",
        ),
    ),
    _category(
        "excess_discount",
        MEDIUM,
        ("a discount above the promotion limit", "优惠幅度超过促销上限"),
        (
            "Offer at most the promotion limit, as the campaign states it.",
            "优惠不超过促销上限，以活动规则为准。",
        ),
        (),  # read by the checker against marketing.max_promo_discount_pct
        "marketing.max_promo_discount_pct",
    ),
    _category(
        "income_coaching",
        HIGH,
        ("coaching false income or documents", "教唆虚报收入或伪造材料"),
        (
            "Income is what the documents show; we never adjust it.",
            "收入以真实材料为准，不得修改或包装。",
        ),
        (
            r"(收入|工资|月薪|流水)\s*(可以|就)?\s*(写|填|报|说|改)\s*(得)?\s*(高|多)\s*(一点|一些|点|些)?",
            r"(写|填|报|改)\s*(高|多)\s*(一点|一些|点|些)?\s*(收入|工资|月薪)",
            r"(帮你|帮您|我们)\s*(做|包装|美化|修改|弄)\s*(一下|个|份)?\s*(流水|收入证明|工资条|银行流水|资料|材料)",
            r"(做|开|弄)\s*(个|一份|一张)?\s*(假的?)?\s*(收入证明|流水|工作证明)",
            r"(we\s+can|we'll|let\s+me|i\s+can)\s+(adjust|bump\s+up|boost|raise|inflate|tweak|round\s+up|fix|dress\s+up)\s+(your\s+)?(income|salary|pay|bank\s+statements?|payslips?|documents?)",
            r"(just\s+)?(put|write|say|state|list)\s+(down\s+)?(a\s+)?(higher|bigger|larger|more)\s+(income|salary|figure)",
            r"(make|create|get\s+you)\s+(a\s+)?(fake|new)\s+(payslip|pay\s+stub|bank\s+statement|employment\s+letter|income\s+proof)",
        ),
    ),
    _category(
        "value_guarantee",
        MEDIUM,
        ("promising the car keeps its value or returns", "承诺车辆保值或投资收益"),
        (
            "A car loses value over time; say so if value comes up.",
            "车辆会随时间贬值，谈及价值时应如实说明。",
        ),
        (
            r"稳赚不赔",
            r"(只赚不赔|包赚|保赚|稳赚|零风险|没有任何风险|无风险)",
            r"(保值|不贬值|只涨不跌|稳涨)\s*(保证|承诺|包|100%)?",
            r"(保证|承诺|包)\s*(保值|升值|回本|赚钱|收益)",
            r"risk-?\s*free",
            r"(no|zero)\s+risk",
            r"(can't|cannot|won't)\s+(lose|go\s+wrong|lose\s+money)",
            r"(guaranteed|sure)\s+(to\s+)?(hold|keep)\s+(its\s+)?value",
            r"(never|won't|doesn't)\s+(lose|loses)\s+(its\s+)?value",
            r"guaranteed\s+(returns?|profit|resale|to\s+make\s+money)",
            r"(only|always)\s+goes?\s+up\s+in\s+value",
        ),
    ),
    _category(
        "competitor_disparagement",
        MEDIUM,
        ("calling other lenders scams", "诋毁同业机构"),
        (
            "Compare on facts: rates, fees and terms.",
            "以利率、费用和条款等事实进行比较。",
        ),
        (
            r"(别家|别的|其他|其它|外面|同行|友商|他们家)\s*(机构|公司|平台|银行|家)?\s*(都|全)?\s*(是)?\s*(骗子|骗人|坑人|黑心|套路贷|不靠谱|高利贷|割韭菜)",
            r"(别家|其他家|他们家|外面的)\s*[^。！？!?]{0,8}(都|全)\s*(是)?\s*(骗|坑)",
            r"(other|those|all\s+the\s+other)\s+(lenders|banks|companies|dealers|finance\s+companies|guys)\s+(are|is)\s+(all\s+)?(scams?|scammers|crooks|frauds?|liars|rip-?offs?|thieves|loan\s+sharks)",
            r"(everyone|everybody)\s+else\s+(is|are)\s+(a\s+)?(scam|scammers|ripping\s+you\s+off|crooks)",
            r"(don't|never)\s+(trust|go\s+to)\s+(the\s+)?(other|those)\s+(lenders|banks|guys)",
        ),
    ),
    _category(
        "upfront_fee_deduction",
        HIGH,
        ("fees deducted from the loan before payout", "放款时预先扣除费用（砍头息）"),
        (
            "The full principal is paid out; fees are charged as the contract states.",
            "足额发放本金，费用按合同约定另行收取。",
        ),
        (
            r"砍头息",
            r"(放款|到账|下款)\s*(时|前|之前|的时候)?\s*(先|直接|会)?\s*(扣|扣除|扣掉|扣下)",
            r"(先|提前|预先)\s*(扣|扣除|扣掉)\s*[^。！？!?]{0,6}(服务费|手续费|利息|费用|保证金|押金)",
            r"(贷|借)\s*{N}\s*(万|千|元)?\s*[，,]?\s*(实际)?\s*(到手|到账)\s*{N}",
            r"(fee|fees|interest|deposit|charges?)\s+(is\s+|are\s+|will\s+be\s+|gets?\s+)?(taken|deducted|withheld|knocked)\s+(off|out|from)\s+(of\s+)?(the\s+|your\s+)?(loan|payout|principal|amount)",
            r"(deduct|take|withhold)\s+(the\s+)?(fees?|interest|charges?|deposit)\s+(from|out\s+of|off)\s+(the\s+|your\s+)?(loan|payout|principal)",
            r"(borrow|loan\s+of)\s+\$?{N}\s*k?,?\s+(and\s+)?(you('ll)?\s+)?(receive|get|take\s+home)\s+(only\s+)?\$?{N}",
        ),
    ),
    _category(
        "identity_misuse",
        HIGH,
        ("applying under someone else's identity", "冒用他人身份申请"),
        (
            "Only the borrower applies, with their own ID.",
            "须由借款人本人持本人证件申请。",
        ),
        (
            r"(用|拿|借)\s*(你|您)?\s*(朋友|亲戚|家人|父母|别人|他人|同事|老婆|老公|爸妈|同学)\s*(的)?\s*(身份证|证件|身份|名义|名字)\s*(来|去)?\s*(办|申请|贷|借|签)",
            r"(借|租|买)\s*(个|一个|张)?\s*(身份证|身份)\s*(来|去)?\s*(办|申请|贷)",
            r"(以|用)\s*(他人|别人|朋友|亲戚)\s*(的)?\s*名义\s*(办理|申请|贷款|借款)",
            r"(use|borrow)\s+(a|your)\s+(friend's|relative's|brother's|sister's|parent's|parents'|wife's|husband's|cousin's|colleague's|neighbou?r's|mate's)\s+(id|identity|name|ssn|id\s+card)",
            r"(use|borrow|put\s+it\s+under)\s+(someone|somebody)\s+else's\s+(id|identity|name)",
            r"(apply|sign)\s+(under|in|with)\s+(a\s+)?(friend's|relative's|someone\s+else's|another\s+person's)\s+(name|id|identity)",
            r"(put|register)\s+(the\s+)?(loan|car|application)\s+(under|in)\s+(your\s+)?(friend's|relative's|cousin's|mom's|dad's)\s+name",
        ),
    ),
)


# More ways people say the same things, found on the tuning set (data/tuning.jsonl), never on
# the held-apart evaluation set: traditional characters, typos, paraphrases, longer reaches.
_MORE: dict[str, tuple[str, ...]] = {
    "guaranteed_approval": (
        r"包\s*過",
        r"(保证|确保|包你|包您)\s*[^，。,.!?！？]{0,6}(放款|下款|能批|批下来|通过|获批|能贷)",
        r"(一定|肯定|绝对|铁定|百分百)\s*(能|可以|会)\s*(贷到|贷下来|批|过|下款|拿到钱|贷)",
        r"approv\w*\s*(is|是|are)?\s*(guaranteed|100%|a\s+given)",
        r"approv\w*[^.!?。！？]{0,20}guarantee",
        r"guarantee\w*[^.!?。！？]{0,20}approv",
        r"make\s+sure\s+you('re|\s+are|\s+get)\s+approved",
        r"garant\w*\s+approv",
    ),
    "no_credit_check": (
        r"no\s+cred\w*\s+che\w*",
        r"credit\s+(score|history|record|report)\s+(is\s+)?(irrelevant|doesn't\s+matter|does\s+not\s+matter|not\s+important|no\s+problem)",
        r"(never|don't|do\s+not|won't|will\s+not)\s+(look\s+at|pull|check|run|care\s+about)\s+(your\s+)?credit",
        r"(征信|信用)\s*(记录|报告|分)?\s*(不看|不查|无所谓|不重要|没关系|不影响)",
        r"不\s*(看|查)\s*(你的?|您的?)?\s*(征信|征心|信用)",
        r"不会\s*(查|看)\s*(你的?|您的?)?\s*(征信|信用)",
    ),
    "zero_down_payment": (
        r"(cover|pay)\s+(your\s+|the\s+)?down\s*payment\s+for\s+you",
        r"(pay|put\s+down)\s+(zero|nothing|\$0|0)\s+(upfront|up\s+front|down)",
        r"首付\s*(我们)?\s*(帮你|帮您|替你|替您)\s*(出|付|垫)",
    ),
    "misleading_zero_interest": (
        r"利息\s*(全免|全部免|都免|免了|全冕|一分都不要|一分不收)",
        r"(白借|白用|白拿)",
        r"一分\s*(钱)?\s*利息\s*(都|也)?\s*(没有|不收|不要)",
    ),
    "hidden_fees": (
        r"nobody\s+(actually\s+)?pays\s+(that|those|it)",
        r"(费用|手续费|服务费)[^。！？]{0,10}(不用管|不收的|实际(上)?不收|不会(真)?收|走个形式)",
        r"(don't|do\s+not|never)\s+(worry|mind)\s+about\s+(the\s+)?(fees?|charges?)",
    ),
    "rate_without_apr": (),
    "instant_disbursement": (
        r"({N}|半)\s*(个)?\s*(小时|分钟)\s*(内|之内|以内)\s*[^。！？]{0,8}(到账|打到|放款|下款|批|出款)",
        r"(within|in)\s+(half\s+an\s+hour|an\s+hour|{N}\s*(minutes?|mins?|seconds?))[^.!?]{0,20}(approv|fund|money|cash|account)",
        r"(approv|fund|money|cash)\w*[^.!?]{0,20}(within|in)\s+(half\s+an\s+hour|{N}\s*(minutes?|mins?|seconds?))",
    ),
    "excess_loan_amount": (
        r"(按|以)\s*(评估价|车价|车值|评估值)\s*(的)?\s*(100%|百分百|全额|足额)\s*(放款|贷|借)",
        r"full\s+value",
        r"(lend|loan|finance|give)\s+you\s+(more\s+than|above|over)\s+(the\s+)?(car|vehicle|what)",
    ),
    "lien_misrepresentation": (
        r"(车|车辆)\s*(不会|不用|不需要|不)\s*(被)?\s*(抵押|押|装\s*gps|装定位)",
        r"(不装|不用装|不需要装|无需装|免装)\s*(gps|定位|追踪器)",
        r"(no|without)\s+(a\s+|any\s+)?(gps|tracker|lien)",
    ),
    "official_impersonation": (
        r"(银保监会?|金融监管|人民银行|央行|财政部|商务部|国家|政府|国务院)\s*(下属|指定|直属|委托|授权|派来|合作)",
        r"(财政部|政府|国家|国务院)\s*(贴息|补贴|扶持|专项|担保)",
        r"(ministry|department)\s+of\s+\w+('s)?[^.!?]{0,30}(subsidy|scheme|programme|program|loan)",
        r"(i'm|i\s+am|we're|we\s+are)\s+(an?\s+)?(officer|official|agent|representative|department)\s+(with|from|of)\s+(the\s+)?(ministry|government|central\s+bank|bank\s+of|treasury)",
    ),
    "pressure_tactics": (
        r"过了这\s*(个)?\s*村\s*(就)?\s*没(了)?\s*这\s*(个)?\s*店",
        r"(今天|现在|马上|今晚)\s*(必须|就得|一定要|赶紧)\s*(签|定|交|办|下单)",
        r"不然\s*[^。！？]{0,10}(卖给|就没了|就被|别人)",
        r"(walk\s+out|leave|hang\s+up)[^.!?]{0,30}(gone|over|lose\s+it|won't\s+be\s+here)",
        r"(截止|结束)[^。！？]{0,10}(就没了|不再有|过期作废)",
    ),
    "loan_to_repay_loans": (
        r"(拿去|用来|拿来|先)\s*[^。！？]{0,4}(把)?\s*(信用卡|网贷|花呗|借呗|白条|欠款|其他贷款|高利贷)\s*(都)?\s*(还了|还清|还掉|填上)",
        r"(clear|pay\s+off|settle|wipe\s+out)\s+(all\s+)?(your\s+)?(other\s+)?(debts|credit\s+cards?|payday\s+loans?|other\s+loans?)",
        r"roll\s+(all\s+)?(your\s+)?(payday\s+loans?|debts?|credit\s+cards?|other\s+loans?)\s+into",
        r"(use|spend)\s+(the\s+)?(extra|rest|leftover)[^.!?]{0,20}(debts?|credit\s+cards?|loans?)",
    ),
    "ineligible_borrowers": (
        r"(上学|在读|在校|读书|学生)\s*(的)?\s*(也|都)\s*(可以|能)\s*(来)?\s*(申请|贷|办|借)",
        r"(no|without\s+a|without\s+any)\s+(job|income|paycheck|payslip)\s*,?\s*(no\s+problem|fine|ok|okay|welcome)",
    ),
    "credential_request": (
        r"(密码|验证码|动态码|短信码)\s*(给我|发我|告诉我|报给我|念给我|发给我)",
        r"(验证码|动态码|短信码)[^。！？]{0,10}(念|报|读|告诉|发)\s*(给)?\s*(我|我们)",
        r"(短信|手机)\s*(里|上)?\s*(的|那)?\s*(个|串)?\s*(六位|6位|四位|4位)?\s*(数字|验证码|号码)\s*(报|念|读|告诉|发)",
        r"(tell|give|send|read|text)\s+(me|us)\s+(back\s+)?(the|your|that)?\s*(\w+\s+){0,2}(code|password|pin|otp)",
    ),
    "early_repayment_misleading": (
        r"提前\s*(还款|还清|结清|还)\s*(完全|全部|totally)?\s*(免费|free|不收费|零费用|零手续费|没有违约金|无违约金|没有\s*penalty)",
        r"(还完|还清|结清)[^。！？]{0,10}(不会|不)\s*(多收|收)\s*(一毛|一分|任何)",
        r"(pay\s+(it\s+)?off|repay)[^.!?]{0,20}(no\s+penalt|penalty-free|free\s+of\s+charge)",
    ),
    "collection_threats": (
        r"(end\s+up|land)\s+in\s+(jail|prison|court)",
        r"(发到|发在|贴到|曝光到|发给)\s*(你们?)?\s*(公司|单位|家族|亲戚|朋友圈|群|通讯录)",
        r"(告诉|通知|打电话给)\s*(你|您)?\s*(的)?\s*(老板|领导|同事|家里人|爸妈)",
    ),
    "insurance_tying": (
        r"(只有|必须|要)\s*买\s*(了)?\s*(我们|我司|我们家)\s*(的)?\s*[^，。]{0,6}(险|保险|延保|套餐)\s*才\s*(能|可以)\s*(批|贷|放款|办)",
        r"(bundle|package)\s+(is|are)\s+(mandatory|compulsory|required)",
    ),
    "income_coaching": (
        r"收入\s*(我|我们)?\s*(帮你|帮您)\s*(写|填|报)",
        r"(写|填|报)\s*(成|个)?\s*{N}\s*(万|千)",
    ),
    "value_guarantee": (
        r"(承诺|保证|担保)\s*[^。！？]{0,10}(残值|保值|二手价|回购价)",
        r"(car|vehicle)\s+(keeps|holds|retains)\s+(its\s+)?value",
        r"basically\s+free\s+money",
    ),
    "competitor_disparagement": (
        r"(对方|他们|那家|那边|外面)\s*(那些|的)?\s*(是|都是|全是)\s*(骗子|骗人|套路贷|高利贷|黑心)",
        r"(other|those)\s+(\w+\s+){0,2}(lenders|banks|companies|firms|dealers|guys)\s+(are|is)\s+(all\s+)?(\w+\s+)?(scams?|scammers|crooks|frauds?|liars|rip-?offs?|thieves|loan\s+sharks)",
        r"every\s+other\s+(lender|bank|company|firm|dealer)[^.!?]{0,20}\b(is|are)\s+(a\s+)?(scam|fraud|crook|rip-?off)",
    ),
    "upfront_fee_deduction": (
        r"(fee|fees|interest|charges?)\s+(comes?|come)\s+(straight\s+)?out\s+of\s+(the|your)\s+(loan|payout|principal)",
        r"(放款|到账|下款)\s*(前|之前|时)\s*(先)?\s*(扣|deduct)",
        r"到手\s*(金额)?\s*(会)?\s*(少|减)",
    ),
    "identity_misuse": (
        r"(in|under)\s+(someone|somebody)\s+else's\s+name",
        r"(用|以)\s*(别人|他人|朋友|亲戚|他|她)\s*(的)?\s*(名义|名字)",
        r"(买|借|租)\s*(个|一个|张|一张|套)?\s*(身份证|身份信息)",
        r"身份证\s*(借|租|买)\s*(一张|一个|个)",
        r"(表哥|表姐|表弟|表妹|堂哥|哥哥|姐姐|弟弟|妹妹|你爸|你妈|老爸|老妈|朋友|亲戚|同事)\s*(的)?\s*身份证\s*(拿来|拿过来|借来|给我|借我)",
        r"(bring|use|borrow)\s+(your\s+)?(brother's|sister's|dad's|mom's|father's|mother's|friend's|cousin's|uncle's|aunt's)\s+(id|ssn|identity)",
    ),
}

CATEGORIES: tuple[Category, ...] = tuple(
    _category(
        c.key,
        c.severity,
        (c.not_allowed_en, c.not_allowed_zh),
        (c.suggestion_en, c.suggestion_zh),
        c.patterns + _MORE.get(c.key, ()),
        c.parameter,
    )
    for c in _BASE
)
make_category = _category  # how the live library builds a category risk control edited

BY_KEY: dict[str, Category] = {category.key: category for category in CATEGORIES}
assert len(CATEGORIES) == 23, "contract section 9 names 23 categories"
