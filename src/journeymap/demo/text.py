"""What Lumetra's customers say: survey comments and support transcripts.

Text comes from templates with slots; every combination of slot values is expanded
once into a pool per (context, tone), so the generator only draws indices.  Templates
avoid double quotes and backslashes, so they can be written into JSON as they are.
"""

from __future__ import annotations

import itertools
import string
from functools import lru_cache

import pyarrow as pa

NEG, NEU, POS = 0, 1, 2
TONES = ("negative", "neutral", "positive")
POOL_CAP = 80  # combinations kept per template

SLOTS: dict[str, tuple[str, ...]] = {
    "file": ("CSV", "CSV file", "spreadsheet", "customer list", "Excel export"),
    "error": ("the date columns were not recognised", "it said our columns did not match",
              "the encoding was wrong apparently", "it complained about duplicate IDs",
              "the file was too large", "half the columns came through empty"),
    "consequence": ("We still have no data in the tool.", "Our team has not been able to start.",
                    "Honestly considering going back to spreadsheets.", "Very frustrating for a paid product.",
                    "We are two weeks in and still stuck.", "Not what we were promised in the sales process."),
    "ask": ("Please make the mapping smarter.", "A template file would help a lot.",
            "Someone should just call us.", "Why is this so hard?", "Better error messages would help."),
    "duration": ("two hours", "a whole afternoon", "three days", "most of the week"),
    "quick": ("ten minutes", "under an hour", "a coffee break", "no time at all"),
    "system": ("QuickBooks", "Salesforce", "our ERP", "Shopify", "Xero", "NetSuite"),
    "fix": ("renaming the date column", "saving it as UTF-8", "splitting the file in two",
            "removing duplicate rows"),
    "topic": ("billing", "an integration issue", "an export problem", "login trouble",
              "user permissions", "a broken dashboard"),
    "wait": ("four days", "almost a week", "five working days", "over a week", "three days"),
    "chat_wait": ("20 minutes", "half an hour", "15 minutes", "40 minutes"),
    "bot": ("links to help articles", "the same canned answer", "irrelevant FAQ pages"),
    "agent_fail": ("clearly did not understand the question", "just pasted a help article",
                   "closed the chat before it was solved", "asked me to email instead"),
    "agent": ("Maria", "Tom", "Priya", "Jonas", "Aisha", "Daniel", "Lena", "Marco"),
    "team": ("finance", "operations", "sales", "management", "marketing"),
    "old": ("a day", "two days", "half a week", "hours"),
    "feature": ("the scheduled reports", "the dashboard builder", "the Salesforce sync",
                "the board pack export", "alerting"),
    "gripe": ("pricing went up", "the mobile app is limited", "exports could be faster",
              "permissions are clunky", "the onboarding was rough"),
    "close": ("Not sure we will renew.", "We are looking at alternatives.", "Disappointed.",
              "This needs to improve.", "Expected better."),
    "speaker": ("the speaker", "the host", "the presenter"),
    "webinar_topic": ("month-end reporting", "board dashboards", "ERP integration"),
    "rep": ("the account executive", "our sales rep", "the solutions engineer"),
}

COMMENTS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "data_import": (
        ("The {file} import keeps failing at the column mapping step. {consequence}",
         "Could not get our {file} to import, {error}. {consequence}",
         "Every time I upload the {file} it fails: {error}. {ask}",
         "Spent {duration} mapping columns from our {system} export. {consequence}",
         "Column mapping is confusing and the {file} never finishes importing. {ask}"),
        ("The import worked after {fix}, but it took {duration} to figure out.",
         "Getting data in from {system} was harder than expected. {ask}",
         "Import is fine once you know the format; {fix} did the trick."),
        ("Importing our {file} took {quick}, the column mapping was clear.",
         "Smooth setup, the import picked up all our columns from {system}.",
         "Data import from {system} was easy, we had dashboards the same day."),
    ),
    "support_ticket": (
        ("Waited {wait} for a reply to my ticket about {topic}. {close}",
         "My ticket about {topic} stayed open for {wait} with no update.",
         "Support took {wait} to answer a simple question about {topic}."),
        ("Got an answer about {topic} eventually, but it took a few back and forths.",
         "The fix for {topic} worked, the reply could have been quicker."),
        ("Quick and helpful answer on {topic}, thanks {agent}!",
         "{agent} solved {topic} within the day. Great support.",
         "Clear instructions on {topic}, problem gone."),
    ),
    "support_chat": (
        ("The chat bot kept sending me {bot} before I reached a human. {close}",
         "Waited {chat_wait} in the chat queue, then got disconnected.",
         "The chat agent {agent_fail}. {close}",
         "Had to repeat my problem about {topic} three times in the chat.",
         "Chat support is useless for {topic}, the agent {agent_fail}."),
        ("Chat was ok but it took {chat_wait} to get to a person.",
         "The chat answer on {topic} was half right."),
        ("{agent} in chat sorted out {topic} in minutes.",
         "Fast chat answer on {topic}, thanks."),
    ),
    "support_call": (
        ("My call about {topic} got transferred twice before anyone could help.",
         "Nobody on the phone could explain {topic}. {close}"),
        ("The call about {topic} helped, though I had to wait a bit.",
         "Phone support fixed {topic} on the second try."),
        ("{agent} on the phone was patient and fixed {topic} right away.",
         "Great phone support, {topic} solved in one call.",
         "Calling was the best decision, {agent} walked me through {topic} step by step."),
    ),
    "nps": (
        ("Too many rough edges: {gripe}. {close}",
         "We barely use it, {gripe}. {close}",
         "Value for money is not there any more, {gripe}."),
        ("Good product but {gripe}.",
         "Does the job for the {team} team, {gripe} though.",
         "Solid, {feature} is useful, but {gripe}."),
        ("Lumetra has become the place where our {team} team starts the day.",
         "Reports that used to take {old} now take minutes.",
         "Great product, {feature} is excellent.",
         "The {team} team loves {feature}. Would recommend."),
    ),
    "nps_slow_support": (
        ("Support took {wait} to resolve our ticket about {topic}. {close}",
         "The product is fine but support is far too slow, {wait} for a simple answer on {topic}.",
         "We lost {wait} waiting on support for {topic}. {close}"),
        ("Good tool, but waiting {wait} for support on {topic} was painful.",
         "Product is fine, support response times are not ({wait} for {topic})."),
        ("Great product, {feature} is excellent.",),
    ),
    "webinar": (
        ("The webinar on {webinar_topic} was a sales pitch, not much to learn.",
         "Audio problems and {speaker} ran out of time."),
        ("Useful overview of {webinar_topic}, a bit basic.",
         "Decent webinar, would have liked more on {webinar_topic}."),
        ("Excellent webinar on {webinar_topic}, {speaker} answered every question.",
         "Really practical session on {webinar_topic}, we booked a demo right after.",
         "Best webinar on {webinar_topic} I have seen, clear examples."),
    ),
    "product_demo": (
        ("The demo was generic, {rep} did not look at our use case.",
         "Too much slideware in the demo, not enough product."),
        ("Good demo, though we still have questions about {feature}.",
         "The demo covered the basics; {rep} will follow up on {feature}."),
        ("Great demo, {rep} showed exactly how {feature} fits our {team} team.",
         "Very convincing demo of {feature}."),
    ),
}


def _fill(template: str) -> list[str]:
    names = [f for _, f, _, _ in string.Formatter().parse(template) if f]
    names = list(dict.fromkeys(names))
    combos = list(itertools.product(*(SLOTS[name] for name in names)))
    if len(combos) > POOL_CAP:
        step = len(combos) / POOL_CAP
        combos = [combos[int(i * step)] for i in range(POOL_CAP)]
    return [template.format(**dict(zip(names, combo))) for combo in combos]


@lru_cache(maxsize=None)
def comment_pool(context: str, tone: int) -> pa.Array:
    """Every filled comment for a feedback context and tone."""
    texts = [text for template in COMMENTS[context][tone] for text in _fill(template)]
    assert not any('"' in t or "\\" in t for t in texts)
    return pa.array(texts, pa.string())


GREETING = {
    "chat": ("Hi, this is {agent} from Lumetra support. How can I help you today?",
             "Hello! {agent} here from the Lumetra team. What can I do for you?"),
    "phone": ("Thank you for calling Lumetra support, my name is {agent}. How can I help?",
              "Lumetra support, {agent} speaking. What can I do for you today?"),
}
PROBLEM: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    # topic: (customer problem, agent question, customer detail)
    "data_import": (
        ("I am trying to import our {file} and it keeps failing.", "The import fails at the column mapping step.",
         "We cannot get our {system} export into Lumetra."),
        ("Which step does it stop at, and what does the error say?", "Could you tell me the exact error message?"),
        ("It says {error}.", "The error is that {error}, and I have tried three times.",
         "Something like {error}. We followed the guide."),
    ),
    "billing": (
        ("We were charged twice this month.", "Our invoice shows the wrong plan."),
        ("Can you give me the invoice number?", "Which account email is the invoice sent to?"),
        ("It is the invoice from last week.", "The one sent to our finance team on the first."),
    ),
    "integration": (
        ("Our {system} sync stopped working.", "The {system} integration is not pulling new data."),
        ("When did the last successful sync run?", "Has anyone changed the credentials recently?"),
        ("It stopped on Monday.", "Our IT team rotated the password, I think."),
    ),
    "export": (
        ("The PDF export of our board pack is cut off.", "Excel exports time out on large reports."),
        ("Which report is it, and how many rows does it have?", "Does it happen with every report?"),
        ("The monthly board pack, it has a lot of charts.", "Only the big ones, small reports are fine."),
    ),
    "login": (
        ("I cannot log in since this morning.", "Single sign-on sends me back to the login page."),
        ("Are you using single sign-on or a password?", "Which browser are you using?"),
        ("Single sign-on through our company account.", "Chrome, and I cleared the cache already."),
    ),
    "permissions": (
        ("A colleague cannot see the dashboards I shared.", "New users only see an empty workspace."),
        ("What role does your colleague have?", "Were they invited to the workspace or the team?"),
        ("They are a viewer, I think.", "I invited them by email last week."),
    ),
}
RESOLUTION = {
    POS: ("I found it: {fix} solves this. I have applied it on our side, could you try again?",
          "Thanks for waiting. I fixed the setting on your account, it should work now.",
          "Here is what to do: {fix}. I will stay on while you try."),
    NEG: ("I am afraid I cannot fix this here, I will escalate it to the second line.",
          "This is a known issue, there is no workaround yet. I will open a ticket for the team.",
          "I need to check with engineering, someone will email you in a few days."),
}
CLOSING_CUSTOMER = {
    POS: ("That worked, thank you so much!", "Perfect, it works now. Thanks {agent}.",
          "Great, that was quick. Thanks!"),
    NEG: ("This is really frustrating, we are losing time. {close}", "So I still have no solution. {close}",
          "I have been waiting for this for days. {close}"),
}
CLOSING_AGENT = ("Thanks for contacting Lumetra. Have a great day!",
                 "You are welcome. I will close this ticket then.",
                 "Sorry again for the trouble. Anything else I can help with?")
CHAT_DELAY = (("Are you still there? I have been waiting {chat_wait}.", "Hello? Is anyone there?"),
              ("Sorry for the delay, I am handling several chats at once.",
               "Apologies for the wait, I am back now."))


def _pool(templates: tuple[str, ...]) -> pa.Array:
    return pa.array([text for t in templates for text in _fill(t)], pa.string())


@lru_cache(maxsize=None)
def transcript_parts(medium: str, topic: str, tone: int) -> tuple[tuple[str, pa.Array], ...]:
    """The turns of a support conversation: (speaker, pool of texts) in order."""
    problem, question, detail = PROBLEM[topic]
    turns: list[tuple[str, tuple[str, ...]]] = [
        ("agent", GREETING[medium]), ("customer", problem), ("agent", question), ("customer", detail),
    ]
    if medium == "chat" and tone == NEG:
        turns += [("customer", CHAT_DELAY[0]), ("agent", CHAT_DELAY[1])]
    turns += [("agent", RESOLUTION[tone]), ("customer", CLOSING_CUSTOMER[tone]), ("agent", CLOSING_AGENT)]
    return tuple((speaker, _pool(texts)) for speaker, texts in turns)
