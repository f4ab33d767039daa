from hojre.cli import app

app()
