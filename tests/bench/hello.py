"""The baseline for the landing-page benchmark: a bare Flask hello-world, served the same way."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, world!"
