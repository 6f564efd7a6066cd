"""Screenshots of the board briefing that `horizon demo` writes: the e-mail on a phone, the PDF's pages.

Run from the repository root after `horizon demo --out OUT`:
    python docs/screenshots/briefing_shots.py OUT SHOTS_DIR
The e-mail is shown by headless Chromium at 390 px wide with its chart (an inline cid: image in
the message) put in place; the PDF's pages are drawn with pypdfium2 where it is installed
(`pip install pypdfium2`; not one of the project's dependencies).
"""

from __future__ import annotations

import base64
import email
import email.policy
import shutil
import sys
from pathlib import Path


def email_html(eml: Path) -> str:
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    html_part = message.get_body(preferencelist=("html",))
    html = html_part.get_content()
    for part in message.walk():
        cid = part.get("Content-ID")
        if cid:
            data = base64.b64encode(part.get_content()).decode()
            html = html.replace(f"cid:{cid.strip('<>')}", f"data:{part.get_content_type()};base64,{data}")
    return html


def main(out: Path, shots: Path) -> None:
    from playwright.sync_api import sync_playwright

    [eml] = sorted(out.glob("briefing_*.eml"))
    page_file = shots / "briefing-email.html"
    page_file.write_text(email_html(eml))
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=1)
        page.goto(page_file.resolve().as_uri())
        height = page.evaluate("document.documentElement.scrollHeight")
        page.screenshot(path=str(shots / "briefing-phone.png"), full_page=True)
        browser.close()
    page_file.unlink()
    print(f"e-mail: {height} px tall at 390 px wide")
    try:
        import pypdfium2
    except ImportError:
        print("pypdfium2 is not installed: no PDF pages drawn")
        return
    [pdf] = sorted(out.glob("briefing_*.pdf"))
    document = pypdfium2.PdfDocument(str(pdf))
    for i in range(min(len(document), 2)):
        document[i].render(scale=1.2).to_pil().save(shots / f"briefing-pdf-page{i + 1}.png")
    print(f"PDF: {len(document)} pages; the first two drawn")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
